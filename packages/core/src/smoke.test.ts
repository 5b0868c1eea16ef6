import { createClient } from './client.js';
import { mockTransport } from './testing/index.js';

it('answers through a mock transport', async () => {
  const transport = mockTransport([{ status: 200, body: { ok: true } }]);
  const client = createClient([transport], { baseUrl: 'http://api.test/v1' });
  const res = await client.get('/items', { query: { a: [1, 2], b: undefined } });
  expect(await res.json()).toEqual({ ok: true });
  expect(transport.requests[0]!.url).toBe('http://api.test/v1/items?a=1&a=2');
});
