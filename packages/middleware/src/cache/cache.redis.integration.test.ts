import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from '@extapi/core';
import { sharedRedis, startTestServer, type TestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { Redis } from 'ioredis';
import { cache } from './cache.js';
import { CACHE_STATUS_HEADER } from './respond.js';
import { redisStore } from './redis-store.js';

const WORKER = join(__dirname, '../../test/cache/worker.mjs');
let unique = 0;
const newId = (name: string) => `test-${name}-${process.pid}-${Date.now()}-${unique++}`;

/** Runs test/cache/worker.mjs in its own process (its own memory) and returns what it printed. */
function runWorker(config: Record<string, unknown>): Promise<{ cache: string; body: string }> {
  const child: ChildProcess = fork(WORKER, [JSON.stringify(config)], { stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!));
      else reject(new Error(`worker exited with ${code ?? signal}: ${err}`));
    });
  });
}

describe('cache() with a Redis store', () => {
  let redisUrl: string;
  let stopRedis: () => Promise<void>;
  let redis: Redis;
  let server: TestServer;
  let hits = 0;
  const transport = undiciTransport();

  beforeAll(async () => {
    ({ url: redisUrl, stop: stopRedis } = await sharedRedis());
    redis = new Redis(redisUrl);
    server = await startTestServer((req, res) => {
      hits++;
      const binary = req.url === '/binary';
      res.writeHead(200, { 'cache-control': 'max-age=60', etag: '"e"' });
      res.end(binary ? Buffer.from(Array.from({ length: 256 }, (_, i) => i)) : `hit ${hits}`);
    });
  });
  beforeEach(() => {
    hits = 0;
  });
  afterAll(async () => {
    await transport.close();
    await server.close();
    redis.disconnect();
    await stopRedis?.();
  });

  // First: ioredis keeps a 2 s timer after giving up on a dead port, over by the end of the file.
  test('a store that fails (Redis on a dead port) is a miss, reported once', async () => {
    const warnings: string[] = [];
    const failures: string[] = [];
    const middleware = cache({
      redis: 'redis://127.0.0.1:1',
      redisTimeoutMs: 100,
      logger: { warn: (_obj, message) => warnings.push(String(message)) },
      onStoreError: (_error, operation) => failures.push(operation),
    });
    const client = createClient([middleware, transport], { baseUrl: server.url });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await client.get('/dead');
        expect([res.status, res.headers.get(CACHE_STATUS_HEADER)]).toEqual([200, 'MISS']);
      }
      expect(hits).toBe(3);
      expect(failures).toEqual(['get', 'set', 'get', 'set', 'get', 'set']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/store failed \(get: .*\); calls go on as misses/);
    } finally {
      await middleware.close();
    }
  });

  test('two clients with separate memory share entries through Redis, under a hash-tagged key', async () => {
    const id = newId('share');
    const a = cache({ redis: redisUrl, id });
    const b = cache({ redis: redis, id });
    const first = createClient([a, transport], { baseUrl: server.url });
    const second = createClient([b, transport], { baseUrl: server.url });
    try {
      expect((await first.get('/shared')).headers.get(CACHE_STATUS_HEADER)).toBe('MISS');
      const hit = await second.get('/shared');
      expect([hit.headers.get(CACHE_STATUS_HEADER), await hit.text()]).toEqual(['HIT', 'hit 1']);
      expect(hits).toBe(1);
      const keys = await redis.keys(`extapi:cache:{${id}:*`);
      expect(keys).toEqual([`extapi:cache:{${id}:GET ${server.url}/shared}`]);
      // Redis expires the entry itself: max-age 60 s plus an hour kept for revalidation (ETag).
      const ttl = await redis.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(3_600_000);
      expect(ttl).toBeLessThanOrEqual(3_660_000);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a hit is one round trip to Redis (one command), and a miss a get and a set', async () => {
    const id = newId('trip');
    const own = new Redis(redisUrl);
    await own.ping(); // connected: its handshake is not counted
    const middleware = cache({ redis: own, id });
    const client = createClient([middleware, transport], { baseUrl: server.url });
    try {
      const sent = jest.spyOn(own, 'sendCommand');
      await (await client.get('/trip')).text();
      expect(sent.mock.calls.map(([command]) => command.name)).toEqual(['get', 'set']);
      sent.mockClear();
      const hit = await client.get('/trip');
      expect(hit.headers.get(CACHE_STATUS_HEADER)).toBe('HIT');
      expect(sent.mock.calls.map(([command]) => command.name)).toEqual(['get']);
      expect(hits).toBe(1);
    } finally {
      await middleware.close();
      own.disconnect();
    }
  });

  test('a binary body comes back from Redis byte for byte', async () => {
    const id = newId('binary');
    const store = redisStore({ redis: redisUrl, id });
    const client = createClient([cache({ store }), transport], { baseUrl: server.url });
    try {
      const stored = await (await client.get('/binary')).bytes();
      const hit = await client.get('/binary');
      expect(hit.headers.get(CACHE_STATUS_HEADER)).toBe('HIT');
      expect(Buffer.from(await hit.bytes()).equals(Buffer.from(stored))).toBe(true);
      expect(stored.length).toBe(256);
    } finally {
      await store.close?.();
    }
  });

  test('a fleet: a second process first call is a hit (the server counts one request)', async () => {
    const id = newId('fleet');
    const config = { redis: redisUrl, id, url: `${server.url}/fleet` };
    const first = await runWorker(config);
    const second = await runWorker(config);
    expect(first).toEqual({ cache: 'MISS', body: 'hit 1' });
    expect(second).toEqual({ cache: 'HIT', body: 'hit 1' });
    expect(hits).toBe(1);
    // A hang guard, not a speed bound: two fresh Node processes load the packages and ioredis,
    // which takes 2 to 5 s each on a machine whose cores are all busy.
  }, 60_000);
});
