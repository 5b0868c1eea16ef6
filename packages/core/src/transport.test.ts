import { defineTransport } from './transport.js';

describe('defineTransport', () => {
  it('closes the transport once however often close() is called', async () => {
    let closes = 0;
    const transport = defineTransport(async () => Promise.reject(new Error('unused')), {
      name: 'counting',
      close: async () => {
        closes++;
        if (closes > 1) throw new Error('closed twice');
      },
    });
    await Promise.all([transport.close(), transport.close()]);
    await transport.close();
    expect(closes).toBe(1);
  });
});
