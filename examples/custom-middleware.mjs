// The code of docs/writing-middleware.md, runnable: four custom middleware (in middleware/), their
// unit tests on the mock transport, and one call through a real local server.
// `node examples/custom-middleware.mjs`. Each `// #region name` of these files is a code block of the
// guide; custom-middleware.test.mjs keeps the two identical, so the guide cannot drift from code
// that runs.
import { ConfigError } from '@extapi/core';
import { startTestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { apiKey } from './middleware/api-key.mjs';

// #region test
import assert from 'node:assert/strict';
import { createClient } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { requestId } from './middleware/request-id.mjs';
import { resendOnce } from './middleware/resend-once.mjs';

async function testResendOnce() {
  const transport = mockTransport([{ status: 502 }, { status: 200, body: { ok: true } }]);
  const client = createClient([
    requestId({ generate: () => 'id-1' }),
    resendOnce({ delayMs: 0 }),
    transport,
  ]);
  const res = await client.get('http://api.test/items');

  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true });
  assert.deepEqual(
    transport.requests.map((r) => [r.attempt, r.headers['x-request-id']]),
    [
      [1, 'id-1'],
      [2, 'id-1'],
    ],
  );
}

async function testAbortEndsTheWait() {
  const transport = mockTransport([{ status: 502 }]);
  const client = createClient([resendOnce({ delayMs: 60_000 }), transport]);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('caller gave up')), 20);

  await assert.rejects(client.get('http://api.test/items', { signal: controller.signal }), {
    message: 'caller gave up',
  });
  assert.equal(transport.requests.length, 1);
}
// #endregion test

// #region placement
import { lintStack } from '@extapi/core';
import { retry } from '@extapi/middleware';
import { signRequest } from './middleware/sign-request.mjs';

function testPlacement() {
  const sign = (text) => `sig(${text.length})`;
  // Before retry(), every attempt would re-send the first attempt's signature: a warning.
  const [warning] = lintStack([signRequest(sign), retry()]);
  assert.equal(warning.rule, 'outside-retry');
  assert.match(
    warning.message,
    /^signRequest \(stack\[0\]\) runs once per attempt but is outside retry/,
  );
  // After it (or after any middleware that declares `resends`), all is well.
  assert.deepEqual(lintStack([retry(), signRequest(sign)]), []);
  assert.equal(lintStack([signRequest(sign), resendOnce()])[0].rule, 'outside-retry');
}
// #endregion placement

async function testBadOption() {
  assert.throws(() => requestId({ header: 'x bad' }), ConfigError);
  assert.throws(() => apiKey({ key: 'k', haeder: 'x-key' }), /did you mean header\?/);
  assert.throws(
    () => apiKey({ key: ['s3cret'] }),
    (error) => !error.message.includes('s3cret'),
  );
  const transport = mockTransport();
  await createClient([apiKey({ key: 'k-1' }), transport]).get('http://api.test/');
  assert.equal(transport.requests[0].headers['x-api-key'], 'k-1');
}

// The same middleware against a real server, inside retry(): the per-call id survives retries.
async function realServer() {
  const seen = [];
  const server = await startTestServer((req, res) => {
    seen.push(req.headers['x-request-id']);
    res.statusCode = seen.length === 1 ? 503 : seen.length === 2 ? 502 : 200;
    res.end(res.statusCode === 200 ? 'done' : '');
  });
  const client = createClient(
    [
      requestId(),
      retry({ maxAttempts: 2, backoff: { baseMs: 1, maxMs: 5 } }),
      resendOnce({ delayMs: 1 }),
      undiciTransport(),
    ],
    { baseUrl: server.url },
  );
  try {
    const res = await client.get('/report', { meta: { requestId: 'req-42' } });
    assert.equal(await res.text(), 'done');
    assert.deepEqual(seen, ['req-42', 'req-42', 'req-42']);
    console.log(
      `real server: ${seen.length} requests, one id (${seen[0]}): ${client.describe().join(' → ')}`,
    );
  } finally {
    await client.close();
    await server.close();
  }
}

for (const check of [
  testResendOnce,
  testAbortEndsTheWait,
  testBadOption,
  testPlacement,
  realServer,
]) {
  await check();
  console.log(`ok ${check.name}`);
}
