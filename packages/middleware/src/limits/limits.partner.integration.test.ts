// The partner's view is the contract: separate processes share one limit and a real server counts
// what arrives. Run against the local limiter, a single Redis and a Redis Cluster (3 + 3 nodes).
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import {
  type RedisCluster,
  sharedRedis,
  sharedRedisCluster,
  startTestServer,
  type TestServer,
} from '@extapi/core/testing';
import { busiestWindow, busiestWindowCertain } from '../../test/limits/windows.js';

const WORKER = join(__dirname, '../../test/limits/fleet-worker.mjs');
const report = (line: string) => {
  if (process.env.EXTAPI_LIMITS_REPORT) process.stderr.write(`${line}\n`);
};
let unique = 0;
const newId = (name: string) => `partner-${name}-${process.pid}-${Date.now()}-${unique++}`;

interface FleetConfig {
  redis?: string;
  cluster?: string;
  stack: ('rate' | 'concurrency')[];
  limit: number;
  windowMs: number;
  max?: number;
  callsEach: number;
  deliveryJitterMs?: number;
  /** Send one request outside the limits before the run (default true). */
  warm?: boolean;
}

interface Done {
  grants: { at: number; url: string }[];
  /** Each start Redis granted: when the worker asked and when Redis's answer reached it (epoch ms). */
  takes: { sent: number; answered: number }[];
  failures: string[];
  /** The longest event-loop delay of the worker during the run, in ms. */
  maxLagMs: number;
  /** The slowest answer of Redis to the worker's pings during the run, in ms. */
  maxRttMs: number;
}

/** Forks `processes` workers, starts them together and returns what each reported. */
async function runFleet(processes: number, server: TestServer, config: FleetConfig) {
  const id = newId(config.stack.join('-'));
  const children: ChildProcess[] = [];
  try {
    const done = Array.from({ length: processes }, (_, n) => {
      const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
      });
      const messages: { type: string }[] = [];
      const ready = new Promise<void>((resolve, reject) => {
        child.on('message', (message: { type: string }) => {
          messages.push(message);
          if (message.type === 'ready') resolve();
        });
        child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${stderr}`)));
      });
      const result = new Promise<Done>((resolve, reject) => {
        child.on('message', (message: { type: string } & Done) => {
          if (message.type === 'done') resolve(message);
        });
        child.once('exit', (code) => {
          if (code !== 0) reject(new Error(`worker exited with ${code}: ${stderr}`));
        });
      });
      result.catch(() => {});
      child.send({
        ...config,
        id,
        calls: config.callsEach,
        url: server.url,
        name: String.fromCharCode(97 + n),
      });
      return { child, ready, result };
    });
    await Promise.all(done.map((w) => w.ready));
    for (const { child } of done) child.send('go');
    return await Promise.all(done.map((w) => w.result));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

/** The calls' arrivals at the server, without the workers' warm-up requests. */
function calls(server: TestServer) {
  return server.arrivals.filter((a) => a.url !== '/warm');
}

/**
 * The partner's view: no `windowMs` at the server holds more than `limit` arrivals, and the first
 * `windows` windows from the first arrival hold at least 95 % of what the limit allows.
 *
 * The contract holds while the delays from grant to arrival spread by at most `jitterMs`, and they
 * are measured: from each call's stamp in its worker to its arrival here (one machine's clock), plus
 * the workers' longest event-loop delay (how much later than Redis's grant a stamp can be). On an
 * idle machine they spread by 1-20 ms and the full bound is asserted; when a loaded machine spreads
 * them further, each ms beyond the jitter may move one arrival that much closer to another, so the
 * window asserted shrinks by exactly that excess, never more.
 */
function expectPartnerView(
  label: string,
  server: TestServer,
  results: Done[],
  rule: { limit: number; windowMs: number; windows: number; jitterMs: number },
): void {
  const { limit, windowMs, windows, jitterMs } = rule;
  expect(results.flatMap((r) => r.failures)).toEqual([]);
  const counted = calls(server);
  const arrivals = counted.map((a) => a.at);
  const first = Math.min(...arrivals);
  const grants = new Map(results.flatMap((r) => r.grants.map((g) => [g.url, g.at] as const)));
  const delays = counted.map((a) => performance.timeOrigin + a.at - grants.get(a.url)!);
  const lag = Math.max(...results.map((r) => r.maxLagMs));
  const spread = Math.max(...delays) - Math.min(...delays) + lag;
  const excess = Math.max(0, spread - jitterMs);
  // The rate: the first `windows` windows hold 95 % of the full rate. A grant can come late by a
  // timer's lateness plus a Redis round trip (each up to one event-loop delay of a starved
  // process, plus Redis's slowest answer), and every later grant of its chain inherits that; so the span is stretched by two
  // of the worst delays per window after the first, and by the spread of delivery. Idle that is
  // 100-250 ms, which still fails a limiter that waits a window too long or counts a start twice;
  // the 95 % itself is only resolved on a quiet machine (bench/limits-precision.mjs measures it).
  const rtt = Math.max(...results.map((r) => r.maxRttMs));
  const span = windows * windowMs + (windows - 1) * (2 * lag + rtt) + spread;
  const inSpan = arrivals.filter((t) => t < first + span).length;
  report(
    `${label}: busiest ${windowMs} ms at the server ${busiestWindow(arrivals, windowMs)} (limit ${limit}), ` +
      `at the limiter ${busiestWindow([...grants.values()], windowMs)}, ` +
      `${inSpan} arrivals in the first ${windows} windows (+${(span - windows * windowMs).toFixed(0)} ms; full rate ${limit * windows}), ` +
      `delivery delays ${Math.min(...delays).toFixed(1)}–${Math.max(...delays).toFixed(1)} ms, event-loop lag ${lag.toFixed(1)} ms, ` +
      `window asserted ${(windowMs - excess).toFixed(0)} ms, peak in flight ${server.maxInFlight}`,
  );
  if (process.env.EXTAPI_LIMITS_DELAYS)
    report(
      counted
        .map((a, i) => `${a.url} ${(a.at - first).toFixed(0)} +${delays[i]!.toFixed(1)}`)
        .join('\n'),
    );
  // The limiter's own bound: no window of windowMs + jitterMs holds more than `limit` grants.
  const takes = results.flatMap((r) => r.takes);
  if (takes.length > 0) {
    // Redis grants on its own clock, at an instant between the ask and the answer: a loaded machine
    // may hold the answer back for many ms (which once packed 11 stamps into a shrunken window), so
    // a breach counts only where limit + 1 grants fit in one window wherever they fell in their spans.
    expect(takes).toHaveLength(counted.length);
    const spans = takes.map((t) => ({ from: t.sent, to: t.answered }));
    expect(busiestWindowCertain(spans, windowMs + jitterMs)).toBeLessThanOrEqual(limit);
  } else {
    // In process a stamp follows its grant by a few microtasks, or by the event-loop delay.
    expect(busiestWindow([...grants.values()], windowMs + jitterMs - 2 - lag)).toBeLessThanOrEqual(
      limit,
    );
  }
  expect(busiestWindow(arrivals, windowMs - excess)).toBeLessThanOrEqual(limit);
  expect(inSpan).toBeGreaterThanOrEqual(Math.ceil(0.95 * limit * windows));
}

describe('the partner counts at most limit arrivals in any window, at 95 % of the rate or more', () => {
  let server: TestServer;
  afterEach(() => server?.close());

  test('local rateLimit 5 per 1000 ms, deliveryJitterMs 60, in a cold process (its first call also opens the connection)', async () => {
    server = await startTestServer((_req, res) => {
      res.end('ok');
    });
    const results = await runFleet(1, server, {
      stack: ['rate'],
      limit: 5,
      windowMs: 1000,
      // A cold process's first request takes 30-40 ms longer than the rest here (a connection, the
      // HTTP parser's first load): a jitter that covers it holds the limit from the first call on.
      deliveryJitterMs: 60,
      warm: false,
      callsEach: 25,
    });
    expect(calls(server)).toHaveLength(25);
    expectPartnerView('local 5/1000 ms + 60 ms, 1 cold process', server, results, {
      limit: 5,
      windowMs: 1000,
      windows: 4,
      jitterMs: 60,
    });
  }, 30_000);

  const backends: [
    string,
    () => Promise<{ options: { redis?: string; cluster?: string }; stop(): Promise<void> }>,
  ][] = [
    [
      'a single Redis',
      async () => {
        const redis = await sharedRedis();
        return { options: { redis: redis.url }, stop: redis.stop };
      },
    ],
    [
      'a Redis Cluster (3 masters, 3 replicas)',
      async () => {
        const cluster: RedisCluster = await sharedRedisCluster();
        return { options: { cluster: cluster.spec }, stop: cluster.stop };
      },
    ],
  ];

  describe.each(backends)('3 processes sharing one limit on %s', (_name, start) => {
    let backend: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      backend = await start();
    }, 60_000);
    afterAll(() => backend?.stop());

    test('rateLimit 10 per 1000 ms, 20 calls each', async () => {
      server = await startTestServer((_req, res) => {
        res.end('ok');
      });
      const results = await runFleet(3, server, {
        ...backend.options,
        stack: ['rate'],
        limit: 10,
        windowMs: 1000,
        callsEach: 20,
      });
      expect(calls(server)).toHaveLength(60);
      expectPartnerView(`${_name}: rate 10/1000 ms, 3 processes`, server, results, {
        limit: 10,
        windowMs: 1000,
        windows: 5,
        jitterMs: 25,
      });
    }, 60_000);

    test('concurrencyLimit max 4 outside rateLimit 10 per 1000 ms, calls held 150 ms: in flight never over 4', async () => {
      server = await startTestServer((_req, res) => {
        setTimeout(() => res.end('ok'), 150);
      });
      const results = await runFleet(3, server, {
        ...backend.options,
        stack: ['concurrency', 'rate'],
        limit: 10,
        windowMs: 1000,
        max: 4,
        callsEach: 20,
      });
      expect(calls(server)).toHaveLength(60);
      expect(server.maxInFlight).toBeLessThanOrEqual(4);
      expect(server.maxInFlight).toBeGreaterThan(1);
      expectPartnerView(`${_name}: concurrency 4 + rate 10/1000 ms, 3 processes`, server, results, {
        limit: 10,
        windowMs: 1000,
        windows: 5,
        jitterMs: 25,
      });
    }, 60_000);
  });
});
