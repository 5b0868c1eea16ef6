import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createClient, isExtapiError, isQueueFullError } from '@extapi/core';
import {
  startTestServer,
  type TestServer,
  type RedisServer,
  sharedRedis,
  startRedisServer,
} from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { Redis } from 'ioredis';
import { spyOnTimers } from '../../test/limits/timer-spy.js';
import { concurrencyLimit } from './concurrency-limit.js';
import { DEFAULT_RATE_LIMIT_OPTIONS, rateLimit } from './rate-limit.js';
import { REDIS_UNAVAILABLE } from '../redis/connection.js';

const WORKER = join(__dirname, '../../test/limits/worker.mjs');
const report = (line: string) => {
  if (process.env.EXTAPI_LIMITS_REPORT) process.stderr.write(`${line}\n`);
};
let unique = 0;
const newId = (name: string) => `test-${name}-${process.pid}-${Date.now()}-${unique++}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface WorkerResult {
  ok: number;
  failures: string[];
  elapsedMs: number;
}

function startWorker(config: Record<string, unknown>): {
  child: ChildProcess;
  result: Promise<WorkerResult>;
} {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    err += chunk;
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!));
      else reject(new Error(`worker exited with ${code ?? signal}: ${err}`));
    });
  });
  result.catch(() => {});
  return { child, result };
}

describe('limits shared through Redis', () => {
  let redisUrl: string;
  let stopRedis: () => Promise<void>;
  let server: TestServer;
  const transport = undiciTransport();

  beforeAll(async () => {
    ({ url: redisUrl, stop: stopRedis } = await sharedRedis());
  });
  afterAll(async () => {
    await transport.close();
    await stopRedis?.();
  });
  afterEach(() => server?.close());

  test('3 processes with concurrencyLimit max 4, 20 calls each: the server never sees more than 4 at once', async () => {
    server = await startTestServer((_req, res) => {
      setTimeout(() => res.end('ok'), 50);
    });
    const id = newId('concurrency');
    const workers = ['a', 'b', 'c'].map((name) =>
      startWorker({
        kind: 'concurrency',
        max: 4,
        redis: redisUrl,
        id,
        calls: 20,
        url: server.url,
        name,
      }),
    );
    await sleep(300);
    for (const { child } of workers) child.stdin!.write('go\n');
    const results = await Promise.all(workers.map((w) => w.result));
    expect(results.map((r) => r.failures)).toEqual([[], [], []]);
    expect(server.arrivals).toHaveLength(60);
    expect(server.maxInFlight).toBe(4);
  }, 30_000);

  // Three processes sharing one rateLimit through Redis: limits.partner.integration.test.ts, which
  // measures the spread of delivery delays instead of assuming one (this file's fixed 250 ms
  // failed on a machine with every core busy), on a single Redis and on a Redis Cluster.

  test('a 429 with Retry-After: 1 seen by one process pauses the queued calls of another', async () => {
    let calls = 0;
    server = await startTestServer((_req, res) => {
      if (calls++ === 0) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
      } else res.end('ok');
    });
    const id = newId('pause');
    // Two limiters with their own Redis connections and no state in common but Redis.
    const first = rateLimit({ limit: 5, windowMs: 1000, redis: redisUrl, id });
    const second = rateLimit({ limit: 5, windowMs: 1000, redis: redisUrl, id });
    try {
      const clientA = createClient([first, transport]);
      const clientB = createClient([second, transport]);
      const a = clientA.get(`${server.url}/a`);
      // B starts once A's limiter has shared the pause through Redis: a fixed head start for A
      // (it was 20 ms) is a race that a loaded machine loses.
      const inspect = new Redis(redisUrl);
      try {
        const paused = async () => {
          const keys = await inspect.keys(`extapi:rate:{${id}:*`);
          const pauses = await Promise.all(
            keys.map((k) => inspect.hget(k, 'pause').catch(() => null)),
          );
          return pauses.some((pause) => Number(pause) > 0);
        };
        while (!(await paused())) await sleep(5);
      } finally {
        inspect.disconnect();
      }
      // The waits B's limiter asks its timer for, as Redis told it (its queue's sleep): unlike
      // elapsed time they do not grow on a slow, loaded machine (a late answer means a shorter wait).
      const waits: number[] = [];
      const spy = spyOnTimers(
        () => /at sleep \(.*limits[\\/]key-queues\.ts/.test(new Error().stack ?? ''),
        (ms) => waits.push(ms),
      );
      let statuses: number[];
      try {
        const b = Array.from({ length: 4 }, () => clientB.get(`${server.url}/b`));
        statuses = await Promise.all([a, ...b].map((p) => p.then((r) => r.status)));
      } finally {
        spy.restore();
      }
      expect(statuses).toEqual([429, 200, 200, 200, 200]);
      const [head, ...others] = server.arrivals;
      expect(head!.url).toBe('/a');
      for (const other of others) expect(other.at - head!.at).toBeGreaterThanOrEqual(900);
      // Soon after the 1 s pause, not a window later, counted in what B's limiter waited for: at
      // most one wait longer than the interval between starts ((1000 ms + deliveryJitterMs) / 5,
      // plus 1 ms of rounding), the rest of the pause, and it at most 1000 ms; a second long one
      // would be a window too many.
      expect(waits.length).toBeGreaterThan(0);
      const interval = (1000 + DEFAULT_RATE_LIMIT_OPTIONS.deliveryJitterMs) / 5;
      const long = waits.filter((ms) => ms > interval + 1);
      expect(long.length).toBeLessThanOrEqual(1);
      for (const ms of long) expect(ms).toBeLessThanOrEqual(1000);
    } finally {
      await first.close();
      await second.close();
    }
  }, 15_000);

  test('a queued call leaves at once on abort and maxQueue rejects at once, in Redis mode too', async () => {
    // /1 holds the only slot until the test lets it go, however slow the machine.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startTestServer((req, res) => {
      if (req.url === '/1') void held.then(() => res.end('ok'));
      else res.end('ok');
    });
    const limit = concurrencyLimit({ max: 1, maxQueue: 1, redis: redisUrl, id: newId('queue') });
    try {
      const client = createClient([limit, transport]);
      const running = client.get(`${server.url}/1`);
      while (server.arrivals.length === 0) await sleep(5);
      const controller = new AbortController();
      const queued = client.get(`${server.url}/2`, { signal: controller.signal });
      expect(isQueueFullError(await client.get(`${server.url}/3`).catch((e: unknown) => e))).toBe(
        true,
      );
      const reason = new Error('gave up');
      controller.abort(reason);
      // The slot never frees until release() below, so only the abort can settle the queued call:
      // awaiting it here, before release(), proves it did not wait for the slot, whatever the
      // machine's speed (a call that waited would hang and fail on the test's timeout).
      await expect(queued).rejects.toBe(reason);
      release();
      const next = client.get(`${server.url}/4`);
      await Promise.all([running, next]);
      expect(server.arrivals.map((a) => a.url)).toEqual(['/1', '/4']);
    } finally {
      await limit.close();
    }
  });

  test('Redis keys carry the {id:key} hash tag', async () => {
    // The call holds its slot until the keys are read, however slow the machine.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startTestServer((_req, res) => {
      void held.then(() => res.end('ok'));
    });
    const id = newId('tag');
    const key = () => 'host-a';
    const limits = [
      concurrencyLimit({ max: 1, redis: redisUrl, id, key, leaseMs: 5_000 }),
      rateLimit({ limit: 5, windowMs: 5_000, redis: redisUrl, id, key }),
    ];
    const inspect = new Redis(redisUrl);
    try {
      const client = createClient([...limits, transport]);
      const call = client.get(`${server.url}/`);
      // At the server, the call is past both limiters: every key exists.
      while (server.arrivals.length === 0) await sleep(5);
      const keys = (await inspect.keys(`*${id}*`)).sort();
      expect(keys).toEqual([
        `extapi:rate:{${id}:host-a}`,
        `extapi:rate:{${id}:host-a}:log`,
        `semaphore:extapi:concurrency:{${id}:host-a}`,
      ]);
      release();
      await call;
    } finally {
      release();
      inspect.disconnect();
      for (const limit of limits) await limit.close();
    }
  });

  test('a windowMs longer than a timer can hold (3e9 ms) makes a waiting call wait, not spin', async () => {
    server = await startTestServer((_req, res) => {
      res.end('ok');
    });
    const limit = rateLimit({ limit: 1, windowMs: 3e9, redis: redisUrl, id: newId('long') });
    try {
      const client = createClient([limit, transport]);
      await client.get(`${server.url}/1`);
      const spy = jest.spyOn(globalThis, 'setTimeout');
      const controller = new AbortController();
      const waiting = client.get(`${server.url}/2`, { signal: controller.signal });
      try {
        await sleep(100);
        // One ask of Redis (its command timer) and one sleep; a timer of 3e9 ms fires after 1 ms,
        // so a spinning pump asks Redis again and again.
        const delays = spy.mock.calls.map((call) => Number(call[1] ?? 0));
        expect(delays.length).toBeLessThanOrEqual(6);
        expect(Math.max(...delays)).toBeLessThanOrEqual(2_147_483_647);
      } finally {
        spy.mockRestore();
        controller.abort(new Error('stop'));
      }
      await expect(waiting).rejects.toThrow('stop');
      expect(server.arrivals.map((a) => a.url)).toEqual(['/1']);
    } finally {
      await limit.close();
    }
  });
});

describe('limits on a Redis that fails', () => {
  let redis: RedisServer;
  let server: TestServer;
  const transport = undiciTransport();

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await transport.close();
    await redis?.stop();
  });
  afterEach(() => server?.close());

  /** Calls in a steady loop until `stop`, recording when each ended and how. */
  function loop(call: () => Promise<unknown>, parallel: number) {
    const outcomes: { at: number; error?: unknown; ms: number }[] = [];
    let running = true;
    const workers = Array.from({ length: parallel }, async () => {
      while (running) {
        const start = performance.now();
        try {
          await call();
          outcomes.push({ at: performance.now(), ms: performance.now() - start });
        } catch (error) {
          outcomes.push({ at: performance.now(), error, ms: performance.now() - start });
          await sleep(5);
        }
      }
    });
    return {
      outcomes,
      stop: async () => {
        running = false;
        await Promise.all(workers);
      },
    };
  }

  test("Redis killed: 'fail' with redisOutageWaitMs 0 rejects fast with ERR_REDIS_UNAVAILABLE; restarted: calls succeed again soon after", async () => {
    server = await startTestServer((_req, res) => {
      setTimeout(() => res.end('ok'), 10);
    });
    // A long redisTimeoutMs: a failure that waited for it is told apart from one at once.
    const redisTimeoutMs = 5_000;
    const limits = [
      concurrencyLimit({
        max: 2,
        redis: redis.url,
        id: newId('kill'),
        leaseMs: 2_000,
        redisTimeoutMs,
        // Fail at the first error instead of waiting for Redis to come back.
        redisOutageWaitMs: 0,
      }),
      rateLimit({
        limit: 200,
        windowMs: 1000,
        redis: redis.url,
        id: newId('kill'),
        redisTimeoutMs,
        redisOutageWaitMs: 0,
      }),
    ];
    const client = createClient([...limits, transport]);
    const run = loop(() => client.get(`${server.url}/`), 4);
    // Each phase waits for the state it needs, not a fixed time that a loaded machine outruns (300 ms
    // before the kill once left no call done yet).
    const until = async (done: () => boolean) => {
      while (!done()) await sleep(10);
    };
    try {
      await until(() => run.outcomes.filter((o) => !o.error).length > 5);
      await redis.kill();
      const killedAt = performance.now();
      await until(() => run.outcomes.some((o) => o.error !== undefined && o.at > killedAt));
      await redis.start();
      const restartedAt = performance.now();
      // Back: the last six calls succeeded, after the restart.
      await until(() => {
        const last = run.outcomes.slice(-6);
        return last.length === 6 && last.every((o) => !o.error && o.at > restartedAt);
      });
      await run.stop();
      const failures = run.outcomes.filter((o) => o.error !== undefined);
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) {
        expect(isExtapiError(failure.error)).toBe(true);
        expect((failure.error as { code: string }).code).toBe(REDIS_UNAVAILABLE);
        // Fast: far from redisTimeoutMs, even on a slow, loaded machine.
        expect(failure.ms).toBeLessThan(redisTimeoutMs / 2);
      }
      expect(run.outcomes.filter((o) => !o.error && o.at < killedAt).length).toBeGreaterThan(5);
      const lastFailure = Math.max(...failures.map((f) => f.at));
      // The client reconnects every 500 ms at most: back well within 2 s, even on a loaded machine.
      expect(lastFailure - restartedAt).toBeLessThan(2_000);
      expect(run.outcomes.filter((o) => !o.error && o.at > lastFailure).length).toBeGreaterThan(5);
      expect(server.maxInFlight).toBeLessThanOrEqual(2);
    } finally {
      await run.stop();
      for (const limit of limits) await limit.close();
    }
  }, 20_000);

  test("Redis killed with onRedisError 'local': calls go on under the local limit and return to Redis after a restart", async () => {
    server = await startTestServer((_req, res) => {
      setTimeout(() => res.end('ok'), 10);
    });
    const limits = [
      concurrencyLimit({
        max: 2,
        redis: redis.url,
        id: newId('local'),
        onRedisError: 'local',
        leaseMs: 2_000,
      }),
      rateLimit({
        limit: 200,
        windowMs: 1000,
        redis: redis.url,
        id: newId('local'),
        onRedisError: 'local',
      }),
    ];
    const client = createClient([...limits, transport]);
    const run = loop(() => client.get(`${server.url}/`), 4);
    try {
      await sleep(300);
      await redis.kill();
      const killedAt = performance.now();
      await sleep(500);
      const duringOutage = server.arrivals.filter((a) => a.at > killedAt + 50).length;
      await redis.start();
      await sleep(1_000);
      await run.stop();
      expect(run.outcomes.filter((o) => o.error)).toEqual([]);
      expect(duringOutage).toBeGreaterThan(5);
      expect(server.maxInFlight).toBeLessThanOrEqual(2);
    } finally {
      await run.stop();
      for (const limit of limits) await limit.close();
    }
  }, 20_000);

  test('FLUSHALL and SCRIPT FLUSH mid-run: no call fails and the limits hold again', async () => {
    let inFlight = 0;
    let settled = Number.POSITIVE_INFINITY;
    let peakAfter = 0;
    server = await startTestServer((_req, res) => {
      inFlight++;
      if (performance.now() > settled) peakAfter = Math.max(peakAfter, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 10);
    });
    const limits = [
      concurrencyLimit({ max: 3, redis: redis.url, id: newId('flush'), leaseMs: 600 }),
      rateLimit({ limit: 300, windowMs: 1000, redis: redis.url, id: newId('flush') }),
    ];
    const admin = new Redis(redis.url);
    const client = createClient([...limits, transport]);
    const run = loop(() => client.get(`${server.url}/`), 6);
    try {
      await sleep(300);
      await admin.flushall();
      await sleep(300);
      await admin.script('FLUSH');
      await sleep(300);
      await admin.flushall();
      await admin.script('FLUSH');
      // Leases lost to FLUSHALL are taken again by their renewal (every leaseMs / 3): four rounds.
      await sleep(800);
      settled = performance.now();
      await sleep(600);
      await run.stop();
      expect(run.outcomes.filter((o) => o.error)).toEqual([]);
      expect(run.outcomes.filter((o) => o.at > settled).length).toBeGreaterThan(10);
      expect(peakAfter).toBeLessThanOrEqual(3);
      expect(peakAfter).toBeGreaterThan(0);
    } finally {
      await run.stop();
      admin.disconnect();
      for (const limit of limits) await limit.close();
    }
  }, 20_000);

  test('a worker killed while holding 2 slots gives them back within leaseMs', async () => {
    let holding = 0;
    server = await startTestServer((req, res) => {
      if (req.url?.startsWith('/hold')) holding++;
      else res.end('ok');
    });
    const id = newId('crash');
    const leaseMs = 1_200;
    const worker = startWorker({
      kind: 'concurrency',
      max: 2,
      redis: redis.url,
      id,
      leaseMs,
      calls: 2,
      url: server.url,
      path: '/hold',
      name: 'crash',
    });
    await sleep(300);
    worker.child.stdin!.write('go\n');
    while (holding < 2) await sleep(10);
    worker.child.kill('SIGKILL');
    await worker.result.catch(() => {});
    const killedAt = performance.now();
    const limit = concurrencyLimit({ max: 2, redis: redis.url, id, leaseMs });
    try {
      const client = createClient([limit, transport]);
      await client.get(`${server.url}/after`);
      const waited = performance.now() - killedAt;
      report(
        `slots of a killed worker came back after ${waited.toFixed(0)} ms (leaseMs ${leaseMs})`,
      );
      // The slots stayed taken (renewed) until the kill, then came back once the leases ran out:
      // slots kept for good would leave the call above waiting forever (the test fails on its
      // timeout), so its settling tells "came back" from "kept", with no elapsed-time bound.
      expect(waited).toBeGreaterThanOrEqual(leaseMs / 3);
    } finally {
      await limit.close();
    }
  }, 20_000);
});
