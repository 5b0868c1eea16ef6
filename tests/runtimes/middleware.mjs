// The middleware end to end on whichever runtime loads this module: a real node:http server (two,
// for a redirect to another origin) on 127.0.0.1, the built packages imported as a user imports
// them, and plain node:assert. Each check counts what the server saw; none measures time.
import assert from 'node:assert/strict';
import {
  createClient,
  isCircuitOpenError,
  isHttpStatusError,
  isQueueFullError,
  isResponseTooLargeError,
  isTimeoutError,
} from '@extapi/core';
import { startTestServer } from '@extapi/core/testing';
import {
  basicAuth,
  bearerAuth,
  circuitBreaker,
  concurrencyLimit,
  expectStatus,
  headers,
  logging,
  rateLimit,
  retry,
  timeout,
} from '@extapi/middleware';
import { PAYLOAD, routes } from './server.mjs';

/**
 * The checks, as one group per transport: `make` builds a fresh transport (fetchTransport() or
 * undiciTransport()). `expected` maps a check's title to the reason it fails on this runtime (the
 * README's runtimes table lists it).
 */
export function middlewareGroup(name, make, expected = {}) {
  const state = {
    seen: [],
    counts: {},
    slow: { now: 0, max: 0 },
    gate: Promise.resolve(),
    other: undefined,
  };
  let server;
  const clients = [];
  const client = (stack, options = {}) => {
    const c = createClient([...stack, make()], { baseUrl: server.url, ...options });
    clients.push(c);
    return c;
  };
  const reset = () => {
    state.seen.length = 0;
    state.counts = {};
    state.slow = { now: 0, max: 0 };
  };
  const fastRetry = (sleeps, options = {}) =>
    retry({
      budget: false,
      ...options,
      // Record the waits instead of sleeping them: the check counts what retry() asked for.
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

  const cases = [
    [
      'retry re-sends a GET answered 503 and returns the 200',
      async () => {
        const sleeps = [];
        const res = await client([fastRetry(sleeps)]).get('/flaky-503');
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), PAYLOAD);
        assert.equal(state.counts['/flaky-503'], 2);
        assert.equal(sleeps.length, 1);
      },
    ],
    [
      'retry waits for the Retry-After of a 429 (3 s asked, 3000 ms waited)',
      async () => {
        const sleeps = [];
        const res = await client([fastRetry(sleeps)]).get('/flaky-429');
        assert.equal(res.status, 200);
        assert.equal(state.counts['/flaky-429'], 2);
        assert.deepEqual(sleeps, [3000]);
      },
    ],
    [
      'retry gives up after maxAttempts and returns the last 503',
      async () => {
        const sleeps = [];
        const res = await client([fastRetry(sleeps, { maxAttempts: 3 })]).get('/always-503');
        assert.equal(res.status, 503);
        assert.equal(state.counts['/always-503'], 3);
      },
    ],
    [
      'retry re-sends a GET whose response body was cut by the connection closing',
      async () => {
        const sleeps = [];
        const res = await client([fastRetry(sleeps)]).get('/cut-once');
        assert.deepEqual(await res.json(), PAYLOAD);
        assert.equal(state.counts['/cut-once'], 2);
      },
    ],
    [
      'timeout rejects a call the server never answers with TimeoutError',
      async () => {
        const error = await rejection(client([timeout({ ms: 200 })]).get('/hang'));
        assert.equal(isTimeoutError(error), true, String(error));
      },
    ],
    [
      'expectStatus throws HttpStatusError with the status for an unexpected 404',
      async () => {
        const error = await rejection(client([expectStatus([200])]).get('/missing'));
        assert.equal(isHttpStatusError(error), true, String(error));
        assert.equal(error.status, 404);
      },
    ],
    [
      'headers sets static and computed headers on the request',
      async () => {
        const c = client([
          headers({ 'x-static': 'one' }),
          headers((h) => h.set('x-computed', 'two')),
        ]);
        const echo = await (await c.get('/echo')).json();
        assert.equal(echo.headers['x-static'], 'one');
        assert.equal(echo.headers['x-computed'], 'two');
      },
    ],
    [
      'bearerAuth refreshes the token once on a 401 and re-sends',
      async () => {
        const asked = [];
        const getToken = ({ refresh }) => {
          asked.push(refresh);
          return refresh ? 'fresh' : 'stale';
        };
        const res = await client([bearerAuth(getToken)]).get('/needs-fresh-token');
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { who: 'fresh' });
        assert.deepEqual(asked, [false, true]);
        assert.deepEqual(
          state.seen.map((s) => s.headers.authorization),
          ['Bearer stale', 'Bearer fresh'],
        );
      },
    ],
    [
      'basicAuth sends RFC 7617 credentials in UTF-8',
      async () => {
        const c = client([basicAuth({ username: 'ünïcode', password: 'p:ss wörd' })]);
        const echo = await (await c.get('/echo')).json();
        const expected = Buffer.from('ünïcode:p:ss wörd', 'utf8').toString('base64');
        assert.equal(echo.headers.authorization, `Basic ${expected}`);
      },
    ],
    [
      'logging writes a request and a response line without the credential',
      async () => {
        const lines = [];
        const logger = Object.fromEntries(
          ['debug', 'info', 'warn', 'error'].map((level) => [
            level,
            (obj, msg) => lines.push({ level, text: `${msg} ${JSON.stringify(obj)}` }),
          ]),
        );
        const c = client([
          logging({ logger }),
          bearerAuth(() => 'secret-token-123', { refreshOn401: false }),
        ]);
        const res = await c.get('/echo');
        await res.json();
        assert.ok(lines.length >= 2, `expected two lines at least, got ${JSON.stringify(lines)}`);
        assert.ok(
          lines.some((l) => l.text.includes('/echo')),
          JSON.stringify(lines),
        );
        assert.ok(
          lines.some((l) => l.text.includes('200')),
          JSON.stringify(lines),
        );
        assert.ok(!lines.some((l) => l.text.includes('secret-token-123')), 'the token was logged');
      },
    ],
    [
      'circuitBreaker opens after failures and fails fast without calling the server',
      async () => {
        const c = client([circuitBreaker({ minimumCalls: 2, failureRatio: 0.5, openMs: 600_000 })]);
        for (let i = 0; i < 2; i++) assert.equal((await c.get('/always-503')).status, 503);
        const error = await rejection(c.get('/always-503'));
        assert.equal(isCircuitOpenError(error), true, String(error));
        assert.equal(state.counts['/always-503'], 2);
      },
    ],
    [
      "rateLimit lets the window's calls through and refuses one more with a full queue",
      async () => {
        const c = client([rateLimit({ limit: 1, windowMs: 600_000, maxQueue: 0 })]);
        assert.equal((await c.get('/echo')).status, 200);
        const error = await rejection(c.get('/echo'));
        assert.equal(isQueueFullError(error), true, String(error));
        assert.equal(state.seen.length, 1);
      },
    ],
    [
      'concurrencyLimit keeps at most max requests in flight',
      async () => {
        let release;
        state.gate = new Promise((resolve) => {
          release = resolve;
        });
        const c = client([concurrencyLimit({ max: 2 })]);
        const calls = Array.from({ length: 6 }, () => c.get('/slow'));
        let held;
        try {
          // Wait until the server holds two requests, give a third room to (wrongly) arrive,
          // then let them all through.
          await until(() => state.slow.now >= 2);
          await new Promise((resolve) => setTimeout(resolve, 50));
          held = state.slow.now;
        } finally {
          release();
          state.gate = Promise.resolve();
        }
        const outcomes = await Promise.allSettled(calls);
        assert.equal(held, 2);
        assert.deepEqual(
          outcomes.map((o) => o.value?.status ?? String(o.reason)),
          [200, 200, 200, 200, 200, 200],
        );
        assert.equal(state.slow.max, 2);
        assert.equal(state.counts['/slow'], 6);
      },
    ],
    [
      'a gzipped JSON body is decoded by res.json()',
      async () => {
        const res = await client([]).get('/gzip');
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), PAYLOAD);
      },
    ],
    [
      'a redirect to another origin drops Authorization, Cookie and x-api-key, keeps the rest',
      async () => {
        const c = client([
          headers({ cookie: 'session=abc', 'x-api-key': 'key-1', 'x-trace': 'kept' }),
          bearerAuth(() => 'token-1', { refreshOn401: false }),
        ]);
        const echo = await (await c.get('/to-other-origin')).json();
        // The first origin got the credentials, so their absence at the second is the redirect's doing.
        const [first] = state.seen;
        assert.equal(first.headers.authorization, 'Bearer token-1');
        assert.equal(first.headers.cookie, 'session=abc');
        assert.equal(first.headers['x-api-key'], 'key-1');
        assert.equal(echo.url, '/echo');
        assert.equal(echo.headers.authorization, undefined);
        assert.equal(echo.headers.cookie, undefined);
        assert.equal(echo.headers['x-api-key'], undefined);
        assert.equal(echo.headers['x-trace'], 'kept');
        assert.equal(state.other.seen.length, 1);
      },
    ],
    [
      'maxResponseBytes refuses a body over the limit with ResponseTooLargeError',
      async () => {
        const error = await rejection(client([]).get('/big', { maxResponseBytes: 1024 }));
        assert.equal(isResponseTooLargeError(error), true, String(error));
      },
    ],
    [
      'the whole stack: a GET retried after a 503, redirected, with a gzipped JSON body',
      async () => {
        const sleeps = [];
        const c = client([
          logging({ logger: { debug() {}, info() {}, warn() {}, error() {} } }),
          timeout({ ms: 30_000 }),
          circuitBreaker(),
          fastRetry(sleeps),
          concurrencyLimit({ max: 4 }),
          rateLimit({ limit: 100, windowMs: 1_000 }),
          timeout({ ms: 10_000 }),
          expectStatus([200]),
          headers({ accept: 'application/json' }),
          bearerAuth(() => 'token-2'),
        ]);
        const res = await c.get('/gzip-after-503');
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), PAYLOAD);
        assert.equal(state.counts['/gzip-after-503'], 2);
        assert.equal(state.counts['/gzip'], 1);
        assert.equal(sleeps.length, 1);
      },
    ],
  ];

  const titles = new Set(cases.map(([title]) => title));
  const unknown = Object.keys(expected).filter((title) => !titles.has(title));
  if (unknown.length > 0) throw new Error(`expected failures name no check: ${unknown.join('; ')}`);
  return {
    title: `middleware end to end (${name})`,
    async setup() {
      state.other = { seen: [], counts: {} };
      const otherServer = await startTestServer(routes(state.other));
      state.other.url = otherServer.url;
      state.other.close = () => otherServer.close();
      server = await startTestServer(routes(state));
    },
    async teardown() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      await state.other.close();
    },
    cases: cases.map(([title, run]) => ({
      title,
      run: async () => {
        reset();
        state.other.seen.length = 0;
        await run();
      },
      expectedFailure: expected[title],
    })),
  };
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: 'expected the call to reject, but it resolved' });
}

/** Resolves once `condition()` holds, polling every 5 ms (the runner's hang guard bounds it). */
async function until(condition) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
