// Conformance cases, maxResponseBytes: the default limit, the transport option, the per-request one, decoded bytes.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import type { ExtapiError } from '../../errors.js';
import { isResponseTooLargeError } from '../../error-guards.js';
import { rejectionOf } from './checks.js';
import { MiB } from './server.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "maxResponseBytes" cases of the conformance suite. */
export function sizeLimitCases(s: SuiteContext, test: AddCase): void {
  test('a body read whole is limited to 32 MiB by default; a stream and Infinity are not', async () => {
    const size = 32 * MiB + 1;
    const error = await rejectionOf(s.client.get(`/long?size=${size}`));
    assert.equal(isResponseTooLargeError(error), true);
    assert.equal((error as ExtapiError & { maxResponseBytes: number }).maxResponseBytes, 32 * MiB);
    const streamed = await s.client.get(`/long?size=${size}`, { readBody: false });
    let received = 0;
    for await (const chunk of streamed.body!) received += (chunk as Buffer).length;
    assert.equal(received, size);
    const unlimited = await s.client.get(`/long?size=${size}`, {
      maxResponseBytes: Number.POSITIVE_INFINITY,
    });
    assert.equal((await unlimited.bytes()).byteLength, size);
    const transportUnlimited = s.newClient(
      { baseUrl: s.server.url },
      { maxResponseBytes: Number.POSITIVE_INFINITY },
    );
    assert.equal(
      (await (await transportUnlimited.get(`/long?size=${size}`)).bytes()).byteLength,
      size,
    );
  }, 30_000);

  test('a body over the transport option maxResponseBytes rejects with ResponseTooLargeError', async () => {
    const limited = s.newClient({ baseUrl: s.server.url }, { maxResponseBytes: 1000 });
    assert.equal((await limited.get('/sized?size=1000')).status, 200);
    const error = await rejectionOf(limited.get('/sized?size=1001'));
    assert.equal(isResponseTooLargeError(error), true);
    assert.equal((error as ExtapiError & { maxResponseBytes: number }).maxResponseBytes, 1000);
  });

  test('the per-request maxResponseBytes applies and overrides the transport option', async () => {
    const error = await rejectionOf(s.client.get('/big', { maxResponseBytes: 64 * 1024 }));
    assert.equal(isResponseTooLargeError(error), true);
    const limited = s.newClient({ baseUrl: s.server.url }, { maxResponseBytes: 1000 });
    const res = await limited.get('/sized?size=5000', { maxResponseBytes: 10_000 });
    assert.equal((await res.bytes()).byteLength, 5000);
  });

  test('counts decoded bytes: a small gzip bomb stops at the limit with ResponseTooLargeError', async () => {
    const error = await rejectionOf(s.client.get('/bomb', { maxResponseBytes: MiB }));
    assert.equal(isResponseTooLargeError(error), true);
    const limited = s.newClient({ baseUrl: s.server.url }, { maxResponseBytes: MiB });
    assert.equal(isResponseTooLargeError(await rejectionOf(limited.get('/bomb'))), true);
  });

  test('a streamed body over maxResponseBytes fails while it is read with ResponseTooLargeError', async () => {
    const res = await s.client.get('/bomb', { maxResponseBytes: MiB, readBody: false });
    assert.equal(isResponseTooLargeError(await rejectionOf(res.bytes())), true);
  });
}
