// The code of docs/writing-middleware.md, runnable: three custom middleware, their unit tests on the
// mock transport, and one call through a real local server. `node examples/custom-middleware.mjs`.
// Each `// #region name` below is a code block of the guide; custom-middleware.test.mjs keeps the
// two identical, so the guide cannot drift from code that runs.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  createClient,
  defineMiddleware,
  isReplayableBody,
  lintStack,
  markSensitiveHeader,
  option,
  readOptions,
  sleep,
} from '@extapi/core';
import { mockTransport, startTestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { retry } from '@extapi/middleware';

// #region request-id
const REQUEST_ID = Symbol('requestId');

/** Sends one `x-request-id` per call: every attempt of a call carries the same id. */
export function requestId({ header = 'x-request-id', generate = randomUUID } = {}) {
  // Validate once, at creation: a bad option fails when the client is built, not on the first call.
  if (typeof header !== 'string' || !/^[a-z0-9-]+$/i.test(header)) {
    throw new ConfigError('header', header, 'expected a header name');
  }
  const middleware = async function requestId(ctx, next) {
    // ctx.state is per call and shared by its attempts; ctx.request belongs to this attempt only.
    let id = ctx.state.get(REQUEST_ID);
    if (id === undefined) {
      id = ctx.meta.requestId ?? generate();
      ctx.state.set(REQUEST_ID, id);
    }
    ctx.request.headers.set(header, id); // set, never append: this runs again on every attempt
    return next(ctx);
  };
  // The name describe(), warnings and errors show, whatever a minifier does to the function's.
  return defineMiddleware(middleware, { name: 'requestId' });
}
// #endregion request-id

// #region resend-once
/** Re-sends once, after `delayMs`, when the answer is one of `statuses` (a flaky gateway). */
export function resendOnce({ statuses = [502], delayMs = 100 } = {}) {
  const retryable = new Set(statuses);
  const middleware = async function resendOnce(ctx, next) {
    const first = await next(ctx.clone());
    // A stream body was consumed by the first attempt: it cannot be sent twice.
    if (!retryable.has(first.status) || !isReplayableBody(ctx.request.body)) return first;
    await first.discard(); // we drop this response: release its connection
    await sleep(delayMs, ctx.signal); // a caller's abort or a deadline ends the wait at once
    return next(ctx.clone({ attempt: ctx.attempt + 1 }));
  };
  // It re-sends: middleware that must run per attempt belong after it (see "Placement" in the guide).
  return defineMiddleware(middleware, { name: 'resendOnce', placement: { resends: true } });
}
// #endregion resend-once

// #region placement
/** Signs each attempt: the signature covers the attempt's own date, so it must not be reused. */
export function signRequest(sign) {
  const middleware = async function signRequest(ctx, next) {
    const date = new Date().toUTCString();
    ctx.request.headers.set('date', date);
    ctx.request.headers.set(
      'x-signature',
      sign(`${ctx.request.method} ${ctx.request.url} ${date}`),
    );
    return next(ctx);
  };
  return defineMiddleware(middleware, {
    name: 'signRequest',
    placement: { per: 'attempt', reason: 'a signature covers the date of one attempt' },
  });
}

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

// #region options-kit
// One spec per factory: a check per option, read once. In TypeScript add
// `satisfies OptionSpec<ApiKeyOptions>` so the spec cannot drift from the options type.
const API_KEY_OPTIONS = {
  key: option.secret(option.string()), // a bad key is refused without being quoted
  header: option.string('x-api-key'),
};

/** Sends an API key in a header on every pass; the header is marked sensitive. */
export function apiKey(options) {
  // Own properties only; an unknown key throws ConfigError with "did you mean …?".
  const { key, header } = readOptions('apiKey()', options, API_KEY_OPTIONS);
  if (key === undefined) throw new ConfigError('key', undefined, 'expected the API key');
  return async function apiKey(ctx, next) {
    ctx.request.headers.set(header, key);
    markSensitiveHeader(ctx, header);
    return next(ctx);
  };
}
// #endregion options-kit

// #region test
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
