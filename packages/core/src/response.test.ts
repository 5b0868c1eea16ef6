import { Readable } from 'node:stream';
import { createResponse } from './response.js';

const base = {
  status: 200,
  headers: new Headers(),
  url: 'http://api.test/x?token=abc',
  method: 'GET',
};

describe('HttpResponse', () => {
  it('reads a buffered body as bytes, text and json, each more than once', async () => {
    const res = createResponse({ ...base, body: Buffer.from('{"a":1}') });
    expect(res.bodyRead).toBe(true);
    expect(res.body).toBeNull();
    expect(await res.text()).toBe('{"a":1}');
    expect(await res.json()).toEqual({ a: 1 });
    expect(await res.json()).toEqual({ a: 1 });
    expect(Buffer.from(await res.bytes()).toString()).toBe('{"a":1}');
  });

  it('reads a streamed body once and then serves the buffered copy', async () => {
    const res = createResponse({
      ...base,
      body: Readable.from([Buffer.from('he'), Buffer.from('llo')]),
    });
    expect(res.bodyRead).toBe(false);
    expect(res.body).not.toBeNull();
    const [a, b] = await Promise.all([res.text(), res.text()]);
    expect([a, b]).toEqual(['hello', 'hello']);
    expect(res.bodyRead).toBe(true);
    expect(await res.text()).toBe('hello');
  });

  it('rejects json() on an invalid body with the status and the first bytes, no secret in the URL', async () => {
    const res = createResponse({
      ...base,
      status: 502,
      body: Buffer.from('<html>Bad gateway</html>'),
    });
    const error = (await res.json().catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('ERR_INVALID_JSON');
    expect(error.message).toContain('status 502');
    expect(error.message).toContain('<html>Bad gateway');
    expect(error.message).not.toContain('abc');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('tells ok from the status', () => {
    expect(createResponse({ ...base, status: 204, body: null }).ok).toBe(true);
    expect(createResponse({ ...base, status: 301, body: null }).ok).toBe(false);
  });

  it('discards an unread stream with the transport discard function, once, never rejecting', async () => {
    const stream = Readable.from(['x']);
    const discard = jest.fn(async () => {
      throw new Error('socket gone');
    });
    const res = createResponse({ ...base, body: stream, discard });
    await expect(res.discard()).resolves.toBeUndefined();
    await res[Symbol.asyncDispose]();
    expect(discard).toHaveBeenCalledTimes(1);
    expect(res.body).toBeNull();
  });

  it('destroys an unread stream by default', async () => {
    const stream = new Readable({ read() {} });
    const res = createResponse({ ...base, body: stream });
    await res.discard();
    expect(stream.destroyed).toBe(true);
  });

  it('refuses to read a stream the caller already consumed', async () => {
    const stream = Readable.from(['abc']);
    const res = createResponse({ ...base, body: stream });
    for await (const _ of res.body!) {
      // consume
    }
    await expect(res.text()).rejects.toThrow(/already consumed/);
  });
});
