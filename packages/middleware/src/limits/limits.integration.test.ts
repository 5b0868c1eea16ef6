import { createClient, type Middleware, TimeoutError } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { concurrencyLimit } from './concurrency-limit.js';
import { spyOnTimers } from '../../test/limits/timer-spy.js';
import { stampStarts } from '../../test/limits/stamps.js';
import { busiestWindow } from '../../test/limits/windows.js';
import { DEFAULT_RATE_LIMIT_OPTIONS, rateLimit } from './rate-limit.js';

const report = (line: string) => {
  if (process.env.EXTAPI_LIMITS_REPORT) process.stderr.write(`${line}\n`);
};

/**
 * Records, in order, each wait the local rate limiter asks a timer for ("wait", with the instant on
 * its clock the wait is for) and each call it lets through ("start", from the `stamp` middleware
 * placed after it). How long the limiter asks to wait does not depend on the machine's speed (a
 * late timer makes later waits shorter, never longer), so bounds on it hold on a loaded machine
 * where bounds on elapsed time do not.
 */
function recordLimiter() {
  const log: ({ kind: 'wait'; ms: number; due: number } | { kind: 'start'; path: string })[] = [];
  // The limiter's own timers only (its pump); reading a stack here would slow the limiter down.
  const spy = spyOnTimers(
    (fn) => fn.name === 'pump',
    (ms) => log.push({ kind: 'wait', ms, due: performance.now() + ms }),
  );
  const stamp: Middleware = (ctx, next) => {
    log.push({ kind: 'start', path: ctx.request.url.pathname });
    return next(ctx);
  };
  /**
   * The waits asked for in `entries`, once per instant waited for: Node may fire a timer a little
   * before its time on the limiter's clock (it counts from the event loop's cached time), and the
   * limiter then waits the rest for the same instant; that rest is not a wait of its own.
   */
  const waits = (entries = log) => {
    const asked: number[] = [];
    let lastDue = Number.NEGATIVE_INFINITY;
    for (const e of entries) {
      if (e.kind !== 'wait') continue;
      if (Math.abs(e.due - lastDue) >= 2) asked.push(e.ms);
      lastDue = e.due;
    }
    return asked;
  };
  return { log, stamp, waits, restore: () => spy.restore() };
}

describe('limits against a real server', () => {
  let server: TestServer;
  const transport = undiciTransport();
  afterAll(() => transport.close());
  afterEach(() => server?.close());

  test('50 parallel calls at max 5 against a server holding each 50 ms: peak in flight exactly 5', async () => {
    server = await startTestServer((_req, res) => {
      setTimeout(() => res.end('ok'), 50);
    });
    const client = createClient([concurrencyLimit({ max: 5 }), transport]);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => client.get(`${server.url}/`)),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(server.maxInFlight).toBe(5);
    expect(server.arrivals).toHaveLength(50);
  });

  test('30 calls at 10 per 1000 ms: at most 10 starts in any window the delivery jitter cannot blur, and the run takes 2 s or more', async () => {
    server = await startTestServer((_req, res) => {
      res.end('ok');
    });
    // When the limiter lets each call through, to tell its bound from the delivery's jitter.
    const { starts, stamp } = stampStarts();
    const limiter = recordLimiter();
    const client = createClient([
      rateLimit({ limit: 10, windowMs: 1000 }),
      stamp,
      limiter.stamp,
      transport,
    ]);
    const started = performance.now();
    try {
      await Promise.all(Array.from({ length: 30 }, (_, i) => client.get(`${server.url}/${i}`)));
    } finally {
      limiter.restore();
    }
    const elapsed = performance.now() - started;
    const times = server.arrivals.map((a) => a.at);
    const startTimes = [...starts.values()];
    // The limiter's bound: no 1 s window holds more than 10 grants. A stamp follows its grant by a
    // few microtasks, and a grant may come exactly 1000 ms after another, so the stamps are given
    // STAMP_MS.
    const STAMP_MS = 5;
    expect(busiestWindow(startTimes, 1000 - STAMP_MS)).toBeLessThanOrEqual(10);
    // Each call reaches the server some time after its stamp; while those delays differ by at most
    // `jitter` (measured on this run: a few ms when idle, hundreds on a loaded machine), no window
    // of 1000 - jitter at the server holds more than 10.
    const delays = server.arrivals.map((a) => a.at - starts.get(a.url)!);
    const jitter = Math.max(...delays) - Math.min(...delays);
    expect(busiestWindow(times, 1000 - jitter - STAMP_MS)).toBeLessThanOrEqual(10);
    expect(elapsed).toBeGreaterThanOrEqual(1950);
    // Under steady demand the limiter keeps the pace, counted in the waits it asks for rather than
    // in elapsed time. It counts grants in a window of 1000 ms + deliveryJitterMs (1025 ms by
    // default), so an interval is 102.5 ms: at full pace the waits add up to 2921.25 ms (half an
    // interval before the second start, as the first may take up half an interval of slack, then
    // 28 intervals). A late timer only shortens the waits after it (the next start is due sooner),
    // so on any machine the sum stays within that plus 1 ms of rounding per timer; a limiter that
    // waited a window too long (+1 s) or counted a start twice (about 5.9 s) goes over. No single
    // wait exceeds what the window rule can ask after starts bunched by the slack: 1025 - 9 x
    // 51.25 = 563.75 ms.
    const counted = 1000 + DEFAULT_RATE_LIMIT_OPTIONS.deliveryJitterMs;
    const interval = counted / 10;
    const waits = limiter.waits();
    const asked = waits.reduce((sum, ms) => sum + ms, 0);
    const rate = (29 / (Math.max(...startTimes) - Math.min(...startTimes))) * 1000;
    report(
      `local rateLimit 10/1000 ms: ${rate.toFixed(2)} starts/s, ${waits.length} waits asked for ${asked} ms, busiest window ${busiestWindow(times, 1000)} at the server (jitter ${jitter.toFixed(0)} ms), ${busiestWindow(startTimes, 1000)} at the limiter, ${elapsed.toFixed(0)} ms`,
    );
    expect(waits.length).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(counted - 9 * (interval / 2));
    expect(asked).toBeLessThanOrEqual(interval / 2 + 28 * interval + waits.length);
    expect(limiter.log.filter((e) => e.kind === 'start')).toHaveLength(30);
  });

  test('a 429 with Retry-After: 1 pauses the other 9 queued calls for about 1 s', async () => {
    let calls = 0;
    server = await startTestServer((_req, res) => {
      if (calls++ === 0) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
      } else {
        res.end('ok');
      }
    });
    const limiter = recordLimiter();
    const client = createClient([
      rateLimit({ limit: 10, windowMs: 1000 }),
      limiter.stamp,
      transport,
    ]);
    // The 429 is seen before the others are sent, and they wait in the limiter's queue for the
    // pause: sent together, the second start (due 100 ms after the first) raced the 429's round
    // trip, which a loaded machine lost.
    let statuses: number[];
    try {
      const head = await client.get(`${server.url}/`);
      statuses = [
        head.status,
        ...(await Promise.all(
          Array.from({ length: 9 }, () => client.get(`${server.url}/`).then((r) => r.status)),
        )),
      ];
    } finally {
      limiter.restore();
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    const [first, ...others] = server.arrivals.map((a) => a.at);
    expect(others).toHaveLength(9);
    for (const at of others) expect(at - first!).toBeGreaterThanOrEqual(950);
    // Soon after the 1 s pause, not a window later, counted in what the limiter asked to wait
    // rather than in elapsed time (late timers on a loaded machine only shorten its waits): the
    // pause first, at most 1000 ms, then nothing longer than the interval between starts
    // ((1000 ms + deliveryJitterMs) / 10, plus 1 ms of rounding) between the nine.
    const [pause, ...paced] = limiter.waits();
    expect(pause).toBeLessThanOrEqual(1000);
    // One wait per start after the first of the nine at most (fewer if a start was already due).
    expect(paced.length).toBeLessThanOrEqual(8);
    const interval = (1000 + DEFAULT_RATE_LIMIT_OPTIONS.deliveryJitterMs) / 10;
    for (const ms of paced) expect(ms).toBeLessThanOrEqual(interval + 1);
  });

  test('a 200 saying X-RateLimit-Remaining: 0 and a reset in 1 s pauses the next call; other 200s do not', async () => {
    let calls = 0;
    server = await startTestServer((_req, res) => {
      // Mixed case, as servers send them: the undici transport answers from its raw head.
      if (calls++ === 1)
        res.writeHead(200, { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '1' });
      else res.writeHead(200, { 'X-RateLimit-Remaining': '7', 'X-RateLimit-Reset': '1' });
      res.end('ok');
    });
    const limiter = recordLimiter();
    const client = createClient([
      rateLimit({ limit: 1_000_000, windowMs: 1000 }),
      limiter.stamp,
      transport,
    ]);
    try {
      for (let i = 0; i < 3; i++) expect((await client.get(`${server.url}/`)).status).toBe(200);
    } finally {
      limiter.restore();
    }
    const [first, second, third] = server.arrivals.map((a) => a.at);
    // Remaining 7 held nothing back; remaining 0 held the third call for the reset.
    expect(limiter.waits()).toHaveLength(1);
    expect(limiter.waits()[0]).toBeLessThanOrEqual(1000);
    expect(third! - second!).toBeGreaterThanOrEqual(950);
    expect(second! - first!).toBeLessThan(third! - second!);
  });

  test('100 failing calls (timeouts, resets, aborts, a throwing middleware) leave no slot taken', async () => {
    const max = 4;
    let barrier = 0;
    let openBarrier!: () => void;
    const together = new Promise<void>((resolve) => {
      openBarrier = resolve;
    });
    server = await startTestServer(async (req, res) => {
      if (req.url === '/reset') req.socket.destroy();
      else if (req.url === '/slow') setTimeout(() => res.end('late'), 300);
      else if (req.url === '/together') {
        if (++barrier === max) openBarrier();
        await together;
        res.end('ok');
      } else res.end('ok');
    });
    let n = 0;
    const throwing: Middleware = async (ctx, next) => {
      if (ctx.request.url.pathname === '/throw') throw new Error(`inner middleware broke ${n++}`);
      return next(ctx);
    };
    const limit = concurrencyLimit({ max });
    const client = createClient([limit, throwing, transport]);
    const calls = Array.from({ length: 100 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return client.get(`${server.url}/reset`);
        case 1:
          return client.get(`${server.url}/slow`, { timeoutMs: 20 });
        case 2: {
          const controller = new AbortController();
          setTimeout(() => controller.abort(new Error('caller aborted')), 5 + (i % 10));
          return client.get(`${server.url}/slow`, { signal: controller.signal });
        }
        default:
          return client.get(`${server.url}/throw`);
      }
    });
    const results = await Promise.allSettled(calls);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(results.some((r) => r.status === 'rejected' && r.reason instanceof TimeoutError)).toBe(
      true,
    );
    // With a slot still taken, these max calls could never be in flight together.
    const after = await Promise.all(
      Array.from({ length: max }, () => client.get(`${server.url}/together`, { timeoutMs: 3_000 })),
    );
    expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  test('with readBody: false a slot is held until the streamed body is read, then given back', async () => {
    server = await startTestServer((req, res) => {
      res.write('part one, ');
      setTimeout(() => res.end('part two'), req.url === '/slow-body' ? 100 : 0);
    });
    const client = createClient([concurrencyLimit({ max: 1 }), transport], { readBody: false });
    const first = await client.get(`${server.url}/slow-body`);
    const second = client.get(`${server.url}/other`);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(server.arrivals).toHaveLength(1);
    expect(await first.text()).toBe('part one, part two');
    const response = await second;
    expect(server.arrivals).toHaveLength(2);
    await response.discard();
    const third = await client.get(`${server.url}/other`);
    await third.discard();
    expect(server.arrivals).toHaveLength(3);
  });
});
