// circuitBreaker({ redis, id }): one circuit for the fleet, on a single Redis and on a Redis
// Cluster. Each breaker below has its own Redis connection and no state in common but Redis.
import { createClient, isCircuitOpenError, isExtapiError } from '@extapi/core';
import {
  sharedRedis,
  sharedRedisCluster,
  startTestServer,
  type TestServer,
} from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { type Cluster, Redis } from 'ioredis';
import { clusterClient } from '../test/limits/cluster-client.js';
import { circuitBreaker } from './circuit-breaker.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let unique = 0;
const newId = () => `fleet-circuit-${process.pid}-${Date.now()}-${unique++}`;

async function waitFor(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    if (i > 3000) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}

type Backend = { client(): Redis | Cluster; stop(): Promise<void> };

const backends: [string, () => Promise<Backend>][] = [
  [
    'a single Redis',
    async () => {
      const redis = await sharedRedis();
      return {
        client: () => {
          const client = new Redis(redis.url, {
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
          });
          client.on('error', () => {});
          return client;
        },
        stop: redis.stop,
      };
    },
  ],
  [
    'a Redis Cluster',
    async () => {
      const cluster = await sharedRedisCluster();
      return { client: () => clusterClient(cluster.nodes), stop: cluster.stop };
    },
  ],
];

describe.each(backends)('the fleet circuit on %s', (_name, start) => {
  let backend: Backend;
  let server: TestServer;
  const transport = undiciTransport();
  const clients: (Redis | Cluster)[] = [];

  beforeAll(async () => {
    backend = await start();
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await transport.close();
    await backend?.stop();
  });
  afterEach(() => server?.close());

  test('one process sees the failures, every process opens, and one probe in the fleet tests the upstream', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startTestServer((req, res) => {
      if (req.url?.startsWith('/fail')) {
        res.statusCode = 500;
        res.end();
      } else if (req.url?.startsWith('/probe')) void held.then(() => res.end('ok'));
      else res.end('ok');
    });
    const id = newId();
    const changes: string[] = [];
    const fleet = ['a', 'b', 'c'].map((name) => {
      const redis = backend.client();
      clients.push(redis);
      const breaker = circuitBreaker({
        redis,
        id,
        minimumCalls: 5,
        failureRatio: 0.5,
        openMs: 800,
        key: () => 'partner',
        onStateChange: ({ from, to }) => changes.push(`${name}: ${from} -> ${to}`),
      });
      return { breaker, client: createClient([breaker, transport]) };
    });
    const [a, b, c] = fleet as [(typeof fleet)[0], (typeof fleet)[0], (typeof fleet)[0]];

    // Only process a calls, and the upstream fails it five times out of five.
    for (let i = 0; i < 5; i++) expect((await a.client.get(`${server.url}/fail`)).status).toBe(500);
    // a's outcomes reach Redis after its calls return: wait until b sees the circuit open.
    await waitFor(
      () =>
        b.client.get(`${server.url}/ok`).then(
          () => false,
          (error: unknown) => isCircuitOpenError(error),
        ),
      'b to see the circuit open',
    );
    const before = server.arrivals.length;
    for (const { client } of [a, b, c]) {
      const error = await client.get(`${server.url}/ok`).catch((e: unknown) => e);
      expect(isCircuitOpenError(error)).toBe(true);
    }
    expect(server.arrivals.length).toBe(before);
    expect(fleet.map(({ breaker }) => breaker.state('partner'))).toEqual(['open', 'open', 'open']);

    // Half-open: of nine concurrent calls over the fleet, exactly one reaches the upstream.
    await sleep(900);
    const probeRound = [a, b, c].flatMap(({ client }) =>
      Array.from({ length: 3 }, () =>
        client.get(`${server.url}/probe`).then(
          () => 'passed',
          (error: unknown) => (isCircuitOpenError(error) ? 'refused' : String(error)),
        ),
      ),
    );
    await waitFor(() => server.arrivals.some((r) => r.url === '/probe'), 'the probe to arrive');
    await sleep(100);
    release();
    const outcomes = await Promise.all(probeRound);
    expect(outcomes.filter((o) => o === 'passed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(8);
    expect(server.arrivals.filter((r) => r.url === '/probe')).toHaveLength(1);

    // The probe succeeded: the circuit is closed for every process.
    await waitFor(
      () =>
        c.client.get(`${server.url}/ok`).then(
          () => true,
          () => false,
        ),
      'c to pass again',
    );
    for (const { client } of [a, b])
      expect((await client.get(`${server.url}/ok`)).status).toBe(200);
    expect(changes).toContain('a: closed -> open');
    expect(changes).toContain('b: closed -> open');
  }, 30_000);
});

describe('the fleet circuit when Redis is away', () => {
  let server: TestServer;
  const transport = undiciTransport();
  afterAll(() => transport.close());
  afterEach(() => server?.close());

  test("'fail' rejects with ERR_REDIS_UNAVAILABLE; 'local' uses the process's own circuit", async () => {
    server = await startTestServer((_req, res) => {
      res.end('ok');
    });
    // Port 1: nothing listens there, so the client never connects.
    const down = 'redis://127.0.0.1:1';
    const failing = circuitBreaker({ redis: down, id: newId(), redisTimeoutMs: 200 });
    const error = await createClient([failing, transport])
      .get(`${server.url}/`)
      .catch((e: unknown) => e);
    expect(isExtapiError(error) && error.code).toBe('ERR_REDIS_UNAVAILABLE');
    await failing.close?.();
    const local = circuitBreaker({
      redis: down,
      id: newId(),
      redisTimeoutMs: 200,
      onRedisError: 'local',
    });
    expect((await createClient([local, transport]).get(`${server.url}/`)).status).toBe(200);
    await local.close?.();
    expect(server.arrivals).toHaveLength(1);
  });

  test('redis without an id is a ConfigError naming id', () => {
    expect(() => circuitBreaker({ redis: 'redis://127.0.0.1:1' })).toThrow(/id/);
  });
});
