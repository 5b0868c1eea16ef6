// Conformance cases, network errors: refused, reset, cut bodies, all as TransportError with a normalized code.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import type { TransportError } from '../../errors.js';
import { isTransportError } from '../../error-guards.js';
import { rejectionOf } from './checks.js';
import { MiB } from './server.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "network errors" cases of the conformance suite. */
export function networkErrorCases(s: SuiteContext, test: AddCase): void {
  test('connection refused rejects with TransportError code ECONNREFUSED, method and URL', async () => {
    const closed = await s.start((_req, res) => {
      res.end();
    });
    const url = `${closed.url}/nothing-here`;
    await closed.close();
    const refused = s.newClient();
    const error = await rejectionOf(refused.get(url));
    assert.equal(isTransportError(error), true);
    assert.equal((error as TransportError).code, 'ECONNREFUSED');
    assert.equal((error as TransportError).method, 'GET');
    assert.equal((error as TransportError).url, url);
    assert.notEqual((error as TransportError).cause, undefined);
  });

  test('a server reset in the middle of the body rejects with TransportError code ECONNRESET', async () => {
    const error = await rejectionOf(s.client.get('/reset'));
    assert.equal(isTransportError(error), true);
    assert.equal((error as TransportError).code, 'ECONNRESET');
    assert.equal((error as TransportError).url, `${s.server.url}/reset`);
  });

  for (const [route, extra] of [
    ['/reset', {}],
    ['/reset', { maxResponseBytes: 64 * MiB }],
    ['/reset-gzip', {}],
  ] as const) {
    test(`a streamed body cut while it is read rejects with TransportError code ECONNRESET (${route}${'maxResponseBytes' in extra ? ', size-limited' : ''})`, async () => {
      const res = await s.client.get(route, { readBody: false, ...extra });
      const error = await rejectionOf(res.bytes());
      assert.equal(isTransportError(error), true);
      assert.equal((error as TransportError).code, 'ECONNRESET');
      assert.equal((error as TransportError).url, `${s.server.url}${route}`);
    });
  }

  // Over HTTP/2 the gzip case is not shared: fetch decodes inside and hides the wire bytes, so
  // a stream cut silently (RST_STREAM CANCEL) cannot be told from an end; undici checks it.
  for (const gzip of s.kind === 'h2' ? [false] : [false, true]) {
    test(`a body that ends before its content-length rejects with TransportError, read whole and streamed${gzip ? ' (gzip)' : ''}`, async () => {
      const route = `/cut${gzip ? '?gzip=1' : ''}`;
      const error = await rejectionOf(s.client.get(route));
      assert.equal(isTransportError(error), true);
      const res = await s.client.get(route, { readBody: false });
      assert.equal(isTransportError(await rejectionOf(res.bytes())), true);
    });
  }

  test('a streamed body that fails after it was dropped does not crash and discard() resolves', async () => {
    const res = await s.client.get('/reset', { readBody: false });
    // Let the reset arrive while nobody reads the body.
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(await res.discard(), undefined);
    assert.equal((await s.client.get('/status/200')).status, 200);
  });
}
