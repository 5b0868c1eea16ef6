// Conformance cases, redirects: method and body rewriting, credentials across origins, manual mode.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { ExtapiError } from '../../errors.js';
import { echoOf, rejectionOf } from './checks.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "redirects" cases of the conformance suite. */
export function redirectCases(s: SuiteContext, test: AddCase): void {
  for (const status of [301, 302]) {
    test(`${status} after a POST continues as a GET without the body`, async () => {
      const res = await s.client.post(`/redirect?status=${status}&to=/echo/after`, {
        body: 'payload',
        headers: { 'content-type': 'text/plain' },
      });
      const echo = await echoOf(res);
      assert.equal(echo.method, 'GET');
      assert.equal(echo.url, '/echo/after');
      assert.equal(echo.length, 0);
      assert.equal(echo.headers['content-type'], undefined);
      assert.equal(res.url, `${s.server.url}/echo/after`);
    });

    test(`${status} after a PUT keeps the method and the body`, async () => {
      const echo = await echoOf(
        await s.client.put(`/redirect?status=${status}&to=/echo`, { body: 'payload' }),
      );
      assert.equal(echo.method, 'PUT');
      assert.equal(echo.bytes.toString(), 'payload');
    });
  }

  test('303 turns any method but HEAD into a GET without the body', async () => {
    const echo = await echoOf(
      await s.client.put('/redirect?status=303&to=/echo', { body: 'payload' }),
    );
    assert.equal(echo.method, 'GET');
    assert.equal(echo.length, 0);
    const head = await s.client.head('/redirect?status=303&to=/head');
    assert.equal(head.method, 'HEAD');
    assert.equal(head.headers.get('content-length'), '1000');
  });

  for (const status of [307, 308]) {
    test(`${status} keeps the method and the body`, async () => {
      const res = await s.client.post(`/redirect?status=${status}&to=/echo/kept`, {
        body: 'payload',
        headers: { 'content-type': 'text/plain' },
      });
      const echo = await echoOf(res);
      assert.equal(echo.method, 'POST');
      assert.equal(echo.url, '/echo/kept');
      assert.equal(echo.bytes.toString(), 'payload');
      assert.equal(echo.headers['content-type'], 'text/plain');
    });
  }

  test('307 after a streamed body rejects with a clear error instead of resending nothing', async () => {
    const error = await rejectionOf(
      s.client.post('/redirect?status=307&to=/echo', {
        body: Readable.from([Buffer.from('once')]),
      }),
    );
    assert.equal((error as ExtapiError).code, 'ERR_REDIRECT_BODY');
  });

  test('a same-origin redirect keeps Authorization, Cookie and x-api-key', async () => {
    const res = await s.client.get('/redirect?status=302&to=/echo/same', {
      headers: {
        authorization: 'Bearer secret',
        cookie: 'sid=1',
        'x-api-key': 'key',
        'x-trace': 't',
      },
    });
    const echo = await echoOf(res);
    assert.equal(echo.url, '/echo/same');
    assert.equal(echo.headers.authorization, 'Bearer secret');
    assert.equal(echo.headers.cookie, 'sid=1');
    assert.equal(echo.headers['x-api-key'], 'key');
    assert.equal(echo.headers['x-trace'], 't');
  });

  test('a redirect to another port drops Authorization, Cookie and x-api-key but keeps other headers', async () => {
    const to = encodeURIComponent(`${s.other.url}/echo/elsewhere`);
    const res = await s.client.get(`/redirect?status=307&to=${to}`, {
      headers: {
        authorization: 'Bearer secret',
        cookie: 'sid=1',
        'x-api-key': 'key',
        'x-trace': 't',
      },
    });
    const echo = await echoOf(res);
    assert.equal(res.url, `${s.other.url}/echo/elsewhere`);
    assert.equal(echo.url, '/echo/elsewhere');
    assert.equal(echo.headers.authorization, undefined);
    assert.equal(echo.headers.cookie, undefined);
    assert.equal(echo.headers['x-api-key'], undefined);
    assert.equal(echo.headers['x-trace'], 't');
  });

  for (const readBody of [true, false]) {
    test(`follows a redirect whose body cannot be decoded: it is thrown away, not decoded (readBody: ${readBody})`, async () => {
      const res = await s.client.get('/bad-redirect?status=302&to=/echo/landed', { readBody });
      assert.equal(res.status, 200);
      assert.equal((await echoOf(res)).url, '/echo/landed');
    });
  }

  test('redirect: manual hands back a 3xx whose body cannot be decoded with the decoding error on reading', async () => {
    const error = await rejectionOf(s.client.get('/bad-redirect', { redirect: 'manual' }));
    assert.equal((error as ExtapiError).code, 'ERR_CONTENT_DECODING');
  });

  test('a Host header set for the first URL does not follow a redirect to another host', async () => {
    const host = new URL(s.server.url).host;
    const target = new URL(s.other.url);
    // Another host, not only another port: 127.0.0.1 and localhost are the same server.
    const to = `${target.protocol}//localhost:${target.port}/echo/other`;
    const res = await s.client.get(`/redirect?status=302&to=${encodeURIComponent(to)}`, {
      headers: { host },
    });
    assert.equal(res.status, 200);
    const echo = await echoOf(res);
    assert.equal(echo.url, '/echo/other');
    assert.equal(echo.headers.host ?? echo.headers[':authority'], `localhost:${target.port}`);
  });

  test('redirect: manual hands the 3xx back with its location', async () => {
    const res = await s.client.get('/redirect?status=301&to=/echo', { redirect: 'manual' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), '/echo');
  });
}
