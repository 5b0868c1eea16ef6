// The middleware checks of tests/runtimes/middleware.mjs where they apply in a browser and in a
// worker, bundled for each (no Node builtin) and run there against the local node:http servers of
// server.mjs. What a server saw is read back through its /__seen route; no check measures time.
import {
  createClient,
  isCircuitOpenError,
  isHttpStatusError,
  isQueueFullError,
  isResponseTooLargeError,
  isTimeoutError,
} from '@extapi/core';
import { fetchTransport } from '@extapi/backend-fetch';
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
import { runGroups } from '../runtimes/harness.mjs';
import { PAYLOAD } from '../runtimes/payload.mjs';
import { deepEqual, equal, ok, rejection } from './assert.mjs';
import { browserChecks } from './browser-checks.mjs';
import { EXPECTED_FAILURES } from './expected-failures.mjs';

/** A control route of a checks server (server.mjs): what it saw, or a reset, hold or release. */
async function control(base, route) {
  const res = await fetch(`${base}/__${route}`, { method: route === 'seen' ? 'GET' : 'POST' });
  return res.json();
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs the checks on this runtime (`chromium` or `workerd`) against the servers at `api` and
 * `other`, and returns `{ passed, failed, expected, lines }` (the harness's counts and lines).
 * @example
 * const result = await runChecks({ runtime: 'workerd', api: 'http://127.0.0.1:4001', other: 'http://127.0.0.1:4002' });
 */
export async function runChecks({ runtime, api, other }) {
  const clients = [];
  const client = (stack, options = {}) => {
    const c = createClient([...stack, fetchTransport()], { baseUrl: api, ...options });
    clients.push(c);
    return c;
  };
  const seen = () => control(api, 'seen');
  const fastRetry = (sleeps, options = {}) =>
    retry({
      budget: false,
      ...options,
      // Record the waits instead of sleeping them: the check counts what retry() asked for.
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  const check = (title, run) => [title, run];
  // Core follows redirects, with the credentials left at the origin they were given for.
  const followedRedirects = [
    check('a redirect on the same origin is followed', async () => {
      const echo = await (await client([]).get('/to-same-origin')).json();
      equal(echo.url, '/echo');
      deepEqual(
        (await seen()).seen.map((s) => s.url),
        ['/to-same-origin', '/echo'],
      );
    }),
    check(
      'a redirect to another origin drops Authorization, Cookie and x-api-key, keeps the rest',
      async () => {
        await control(other, 'reset');
        const c = client([
          headers({ cookie: 'session=abc', 'x-api-key': 'key-1', 'x-trace': 'kept' }),
          bearerAuth(() => 'token-1', { refreshOn401: false }),
        ]);
        const echo = await (await c.get('/to-other-origin')).json();
        // The first origin got the credentials, so their absence at the second is the redirect's doing.
        const [first] = (await seen()).seen;
        equal(first.headers.authorization, 'Bearer token-1');
        equal(first.headers.cookie, 'session=abc');
        equal(first.headers['x-api-key'], 'key-1');
        equal(echo.url, '/echo');
        equal(echo.headers.authorization, undefined);
        equal(echo.headers.cookie, undefined);
        equal(echo.headers['x-api-key'], undefined);
        equal(echo.headers['x-trace'], 'kept');
        equal((await control(other, 'seen')).seen.length, 1);
      },
    ),
  ];
  const cases = [
    check('retry re-sends a GET answered 503 and returns the 200', async () => {
      const sleeps = [];
      const res = await client([fastRetry(sleeps)]).get('/flaky-503');
      equal(res.status, 200);
      deepEqual(await res.json(), PAYLOAD);
      equal((await seen()).counts['/flaky-503'], 2);
      equal(sleeps.length, 1);
    }),
    check('retry waits for the Retry-After of a 429 (3 s asked, 3000 ms waited)', async () => {
      const sleeps = [];
      const res = await client([fastRetry(sleeps)]).get('/flaky-429');
      equal(res.status, 200);
      equal((await seen()).counts['/flaky-429'], 2);
      deepEqual(sleeps, [3000]);
    }),
    check('retry gives up after maxAttempts and returns the last 503', async () => {
      const res = await client([fastRetry([], { maxAttempts: 3 })]).get('/always-503');
      equal(res.status, 503);
      equal((await seen()).counts['/always-503'], 3);
    }),
    check(
      'retry re-sends a GET whose response body was cut by the connection closing',
      async () => {
        const res = await client([fastRetry([])]).get('/cut-once');
        deepEqual(await res.json(), PAYLOAD);
        equal((await seen()).counts['/cut-once'], 2);
      },
    ),
    check('timeout rejects a call the server never answers with TimeoutError', async () => {
      const error = await rejection(client([timeout({ ms: 200 })]).get('/hang'));
      equal(isTimeoutError(error), true, String(error));
    }),
    check('expectStatus throws HttpStatusError with the status for an unexpected 404', async () => {
      const error = await rejection(client([expectStatus([200])]).get('/missing'));
      equal(isHttpStatusError(error), true, String(error));
      equal(error.status, 404);
    }),
    check('headers sets static and computed headers on the request', async () => {
      const c = client([
        headers({ 'x-static': 'one' }),
        headers((h) => h.set('x-computed', 'two')),
      ]);
      const echo = await (await c.get('/echo')).json();
      equal(echo.headers['x-static'], 'one');
      equal(echo.headers['x-computed'], 'two');
    }),
    check('bearerAuth refreshes the token once on a 401 and re-sends', async () => {
      const asked = [];
      const getToken = ({ refresh }) => {
        asked.push(refresh);
        return refresh ? 'fresh' : 'stale';
      };
      const res = await client([bearerAuth(getToken)]).get('/needs-fresh-token');
      equal(res.status, 200);
      deepEqual(await res.json(), { who: 'fresh' });
      deepEqual(asked, [false, true]);
      deepEqual(
        (await seen()).seen.map((s) => s.headers.authorization),
        ['Bearer stale', 'Bearer fresh'],
      );
    }),
    check('basicAuth sends RFC 7617 credentials in UTF-8', async () => {
      const c = client([basicAuth({ username: 'ünïcode', password: 'p:ss wörd' })]);
      const echo = await (await c.get('/echo')).json();
      const utf8 = new TextEncoder().encode('ünïcode:p:ss wörd');
      equal(echo.headers.authorization, `Basic ${btoa(String.fromCharCode(...utf8))}`);
    }),
    check('logging writes a request and a response line without the credential', async () => {
      const lines = [];
      const logger = Object.fromEntries(
        ['debug', 'info', 'warn', 'error'].map((level) => [
          level,
          (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`),
        ]),
      );
      const c = client([
        logging({ logger }),
        bearerAuth(() => 'secret-token-123', { refreshOn401: false }),
      ]);
      await (await c.get('/echo')).json();
      ok(lines.length >= 2, `expected two lines at least, got ${JSON.stringify(lines)}`);
      ok(
        lines.some((l) => l.includes('/echo')),
        JSON.stringify(lines),
      );
      ok(
        lines.some((l) => l.includes('200')),
        JSON.stringify(lines),
      );
      ok(!lines.some((l) => l.includes('secret-token-123')), 'the token was logged');
    }),
    check(
      'circuitBreaker opens after failures and fails fast without calling the server',
      async () => {
        const c = client([circuitBreaker({ minimumCalls: 2, failureRatio: 0.5, openMs: 600_000 })]);
        for (let i = 0; i < 2; i++) equal((await c.get('/always-503')).status, 503);
        const error = await rejection(c.get('/always-503'));
        equal(isCircuitOpenError(error), true, String(error));
        equal((await seen()).counts['/always-503'], 2);
      },
    ),
    check(
      "rateLimit lets the window's calls through and refuses one more with a full queue",
      async () => {
        const c = client([rateLimit({ limit: 1, windowMs: 600_000, maxQueue: 0 })]);
        equal((await c.get('/echo')).status, 200);
        const error = await rejection(c.get('/echo'));
        equal(isQueueFullError(error), true, String(error));
        equal((await seen()).seen.length, 1);
      },
    ),
    check('concurrencyLimit keeps at most max requests in flight', async () => {
      await control(api, 'hold');
      const c = client([concurrencyLimit({ max: 2 })]);
      const calls = Array.from({ length: 6 }, () => c.get('/slow'));
      let held;
      try {
        // Wait until the server holds two requests, give a third room to (wrongly) arrive, then
        // let them all through.
        while ((await seen()).slow.now < 2) await pause(10);
        await pause(50);
        held = (await seen()).slow.now;
      } finally {
        await control(api, 'release');
      }
      const outcomes = await Promise.allSettled(calls);
      equal(held, 2);
      deepEqual(
        outcomes.map((o) => o.value?.status ?? String(o.reason)),
        [200, 200, 200, 200, 200, 200],
      );
      const after = await seen();
      equal(after.slow.max, 2);
      equal(after.counts['/slow'], 6);
    }),
    check('a gzipped JSON body is decoded by res.json()', async () => {
      const res = await client([]).get('/gzip');
      equal(res.status, 200);
      deepEqual(await res.json(), PAYLOAD);
    }),
    check('maxResponseBytes refuses a body over the limit with ResponseTooLargeError', async () => {
      const error = await rejection(client([]).get('/big', { maxResponseBytes: 1024 }));
      equal(isResponseTooLargeError(error), true, String(error));
    }),
    check(
      'a streamed body reads with bytes(), text() and json(), and discard() drops it',
      async () => {
        const c = client([]);
        const bytes = await (await c.get('/big', { readBody: false })).bytes();
        equal(bytes.length, 64 * 1024);
        ok(
          bytes.every((b) => b === 7),
          'the bytes are not those sent',
        );
        deepEqual(JSON.parse(await (await c.get('/gzip', { readBody: false })).text()), PAYLOAD);
        deepEqual(await (await c.get('/gzip', { readBody: false })).json(), PAYLOAD);
        const dropped = await c.get('/big', { readBody: false });
        await dropped.discard();
        equal((await dropped.bytes()).length, 0);
      },
    ),
    check('onDownloadProgress reports the body up to its whole length', async () => {
      const reports = [];
      const res = await client([]).get('/big', { onDownloadProgress: (p) => reports.push(p) });
      equal((await res.bytes()).length, 64 * 1024);
      ok(reports.length >= 1, 'no progress was reported');
      deepEqual(reports.at(-1), { transferredBytes: 65536, totalBytes: 65536, percent: 100 });
    }),
    check(
      'the recommended stack: a GET retried after a 503, with a gzipped JSON body',
      async () => {
        const sleeps = [];
        const c = client([
          logging({ logger: silent }),
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
        const res = await c.get('/flaky-gzip');
        equal(res.status, 200);
        deepEqual(await res.json(), PAYLOAD);
        equal((await seen()).counts['/flaky-gzip'], 2);
        equal(sleeps.length, 1);
      },
    ),
  ];
  // A browser hides a 3xx from fetch (redirect: 'manual'), so core cannot follow it there.
  if (runtime === 'chromium') cases.push(...browserChecks({ client, seen, other, control }));
  else cases.push(...followedRedirects);

  const expected = EXPECTED_FAILURES[runtime] ?? {};
  const titles = new Set(cases.map(([title]) => title));
  const unknown = Object.keys(expected).filter((title) => !titles.has(title));
  const lines = [];
  if (unknown.length > 0)
    lines.push(`not ok - expected failures name no check: ${unknown.join('; ')}`);
  const group = {
    title: `middleware end to end (${runtime}, fetchTransport)`,
    teardown: () => Promise.all(clients.map((c) => c.close())),
    cases: cases.map(([title, run]) => ({
      title,
      run: async () => {
        await control(api, 'reset');
        await run();
      },
      expectedFailure: expected[title],
    })),
  };
  const result = await runGroups([group], { log: (line) => lines.push(line) });
  return { ...result, failed: result.failed + unknown.length, lines };
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
