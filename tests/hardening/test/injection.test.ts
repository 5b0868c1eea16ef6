// Header injection and request smuggling (undici CVE-2022-31150, CVE-2023-23936, CVE-2026-1525):
// CR, LF or NUL anywhere in a request, or a duplicated framing header, is refused before one byte is sent.
import { isExtapiError } from '@extapi/core';
import { type RawServer, rawResponse, startRawServer } from '@extapi/core/testing';
import { headers as headersMiddleware } from '@extapi/middleware';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

const BAD = { CR: '\r', LF: '\n', CRLF: '\r\n', NUL: '\0' };

describe.each(TRANSPORTS)('header injection and smuggling over %s', (_name, kind) => {
  const guard = useGuard();
  let raw: RawServer;

  beforeEach(async () => {
    raw = await startRawServer((_req, socket) => socket.write(rawResponse(200, 'ok')));
    guard.defer(() => raw.close());
  });

  function expectNothingSent() {
    expect({ connections: raw.connections, bytes: raw.bytes }).toEqual({
      connections: 0,
      bytes: 0,
    });
  }

  async function expectRefused(call: () => Promise<unknown>) {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toEqual(expect.objectContaining({ message: expect.any(String) }));
    expectNothingSent();
    return error;
  }

  it.each(Object.entries(BAD))('refuses %s in a header value', async (_label, bad) => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    const error = await expectRefused(() =>
      client.get('/', { headers: { 'x-note': `a${bad}X-Injected: 1` } }),
    );
    expect(isExtapiError(error) && error.code).toBe('ERR_CONFIG');
  });

  it.each(Object.entries(BAD))('refuses %s in a header name', async (_label, bad) => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    const error = await expectRefused(() =>
      client.get('/', { headers: { [`x-note${bad}x-injected`]: '1' } }),
    );
    expect(isExtapiError(error) && error.code).toBe('ERR_CONFIG');
  });

  it.each(Object.entries(BAD))('refuses %s in a client default header', async (_label, bad) => {
    expect(() =>
      guard.client([kind.make(guard)], { baseUrl: raw.url, headers: { 'x-note': `a${bad}b` } }),
    ).toThrow(/headers/);
    expectNothingSent();
  });

  it.each(Object.entries(BAD))('refuses %s in a header a middleware sets', async (_label, bad) => {
    const client = guard.client(
      [headersMiddleware((h) => h.set('x-note', `a${bad}b`)), kind.make(guard)],
      { baseUrl: raw.url },
    );
    await expectRefused(() => client.get('/'));
  });

  it.each(Object.entries(BAD))('refuses %s in the method', async (_label, bad) => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    for (const method of [`GET${bad}`, `G${bad}ET`, `GET /x HTTP/1.1${bad}X-Injected: 1${bad}`]) {
      const error = await expectRefused(() => client.request('/', { method }));
      expect(isExtapiError(error) && error.code).toBe('ERR_CONFIG');
    }
  });

  it.each(Object.entries(BAD))('refuses %s in the path', async (_label, bad) => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    for (const path of [`/a${bad}X-Injected: 1`, `/a${bad}`, `/a?q=1${bad}X-Injected: 1`]) {
      const error = await expectRefused(() => client.get(path));
      expect(isExtapiError(error) && error.code).toBe('ERR_CONFIG');
    }
    const plain = guard.client([kind.make(guard)]);
    const error = await expectRefused(() => plain.get(`${raw.url}/a${bad}X-Injected: 1`));
    expect(isExtapiError(error) && error.code).toBe('ERR_CONFIG');
    expect(() => guard.client([kind.make(guard)], { baseUrl: `${raw.url}/v1${bad}x` })).toThrow(
      /baseUrl/,
    );
  });

  it.each([
    ['content-length', 'Content-Length'],
    ['content-length', 'CONTENT-LENGTH'],
    ['Content-Length', 'content-LENGTH'],
  ])('refuses a duplicate %s / %s, agreeing or not', async (first, second) => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    for (const values of [
      ['3', '3'],
      ['3', '4'],
    ]) {
      const headers = new Headers();
      headers.append(first, values[0]!);
      headers.append(second, values[1]!);
      await expectRefused(() => client.post('/', { body: 'abc', headers }));
      await expectRefused(() =>
        client.post('/', {
          body: 'abc',
          headers: [
            [first, values[0]!],
            [second, values[1]!],
          ],
        }),
      );
    }
  });

  it.each([
    ['host', 'Host'],
    ['HOST', 'host'],
  ])('refuses a duplicate %s / %s', async (first, second) => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    const host = `127.0.0.1:${raw.port}`;
    for (const values of [
      [host, host],
      [host, 'evil.example'],
    ]) {
      const headers = new Headers();
      headers.append(first, values[0]!);
      headers.append(second, values[1]!);
      await expectRefused(() => client.get('/', { headers }));
    }
  });

  it('refuses a content-length that disagrees with the body and a host that names another one', async () => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    await expectRefused(() =>
      client.post('/', { body: 'abc', headers: { 'content-length': '2' } }),
    );
    await expectRefused(() => client.get('/', { headers: { host: 'evil.example' } }));
  });

  it('sends a request with none of these to the wire as usual', async () => {
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    const res = await client.post('/ok', {
      body: 'abc',
      headers: { 'content-length': '3', host: `127.0.0.1:${raw.port}`, 'x-note': 'fine' },
    });
    expect(await res.text()).toBe('ok');
    expect(raw.requests.map((r) => [r.method, r.path])).toEqual([['POST', '/ok']]);
  });
});
