// Conformance cases, abort and timeouts: the caller's reason, headersTimeoutMs, timeoutMs, recovery afterwards.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import type { TimeoutError } from '../../errors.js';
import { isTimeoutError } from '../../error-guards.js';
import { echoOf, rejectionOf } from './checks.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "abort and timeouts" cases of the conformance suite. */
export function abortCases(s: SuiteContext, test: AddCase): void {
  test('a signal aborted before the call rejects with its reason', async () => {
    const reason = new Error('aborted before');
    const error = await rejectionOf(s.client.get('/echo', { signal: AbortSignal.abort(reason) }));
    assert.equal(error, reason);
  });

  test('a signal aborted while waiting for the response rejects with its exact reason', async () => {
    const controller = new AbortController();
    const reason = { why: 'caller gave up' };
    setTimeout(() => controller.abort(reason), 30);
    const error = await rejectionOf(s.client.get('/hang', { signal: controller.signal }));
    assert.equal(error, reason);
  });

  test('a signal aborted while the body is read rejects with its exact reason', async () => {
    const controller = new AbortController();
    const reason = new Error('aborted in body');
    setTimeout(() => controller.abort(reason), 50);
    const error = await rejectionOf(s.client.get('/hang-body', { signal: controller.signal }));
    assert.equal(error, reason);
  });

  test('headersTimeoutMs runs to the final response head: an endless drip of 102 is timed out', async () => {
    const dripped = s.newClient({ baseUrl: s.server.url }, { headersTimeoutMs: 500 });
    const error = await rejectionOf(dripped.get('/drip'));
    assert.equal(isTimeoutError(error), true);
    assert.equal((error as TimeoutError).phase, 'headers');
    assert.equal((error as TimeoutError).timeoutMs, 500);
  }, 10_000);

  test('timeoutMs while waiting for the response rejects with TimeoutError', async () => {
    const error = await rejectionOf(s.client.get('/hang', { timeoutMs: 50 }));
    assert.equal(isTimeoutError(error), true);
    assert.equal((error as TimeoutError).timeoutMs, 50);
    const slow = s.newClient({ baseUrl: s.server.url, timeoutMs: 50 });
    assert.equal(isTimeoutError(await rejectionOf(slow.get('/hang-body'))), true);
  });

  test('the client keeps working after aborted and timed-out calls', async () => {
    await rejectionOf(s.client.get('/hang', { timeoutMs: 20 }));
    const res = await s.client.get('/echo/after-abort');
    assert.equal((await echoOf(res)).url, '/echo/after-abort');
  });
}
