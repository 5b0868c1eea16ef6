import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Client,
  createClient,
  isConfigError,
  isTransportError,
  lintStack,
} from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { cache, type CacheMiddleware } from './cache.js';
import { CACHE_STATUS_HEADER } from './respond.js';
import type { CacheOptions } from './options.js';
import { memoryStore } from './store.js';
import { retry } from '../retry/index.js';
import { circuitBreaker } from '../circuit-breaker.js';
import { expectStatus } from '../expect-status.js';

type Route = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

const status = (res: { headers: Headers }) => res.headers.get(CACHE_STATUS_HEADER);

describe('cache() against a real server', () => {
  let server: TestServer;
  let hits: Map<string, number>;
  let requests: IncomingMessage['headers'][];
  let route: Route;
  let clock: number;
  let middleware: CacheMiddleware;
  let client: Client;
  const transport = undiciTransport();

  async function setup(handler: Route, options: CacheOptions = {}): Promise<void> {
    route = handler;
    middleware = cache({ now: () => clock, ...options });
    client = createClient([middleware, transport], { baseUrl: server.url });
  }
  const count = (path = '/r') => hits.get(path) ?? 0;

  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      requests.push(req.headers);
      route(req, res, n);
    });
  });
  beforeEach(() => {
    hits = new Map();
    requests = [];
    clock = Date.now();
  });
  afterEach(() => middleware?.close());
  afterAll(async () => {
    await transport.close();
    await server.close();
  });

  const send = (res: ServerResponse, headers: Record<string, string>, body = 'body') => {
    res.writeHead(200, headers);
    res.end(body);
  };

  test('max-age: a fresh response is served from the cache until it is stale', async () => {
    await setup((_req, res, n) => send(res, { 'cache-control': 'max-age=60' }, `v${n}`));
    const first = await client.get('/r');
    expect([status(first), await first.text()]).toEqual(['MISS', 'v1']);
    const second = await client.get('/r');
    expect([second.status, status(second), await second.text()]).toEqual([200, 'HIT', 'v1']);
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
    clock += 61_000;
    const third = await client.get('/r');
    expect([status(third), await third.text()]).toEqual(['MISS', 'v2']);
    expect(count()).toBe(2);
  });

  test('Expires is counted from the Date the server sent', async () => {
    const date = new Date(Math.floor(clock / 1000) * 1000);
    await setup((_req, res, n) =>
      send(
        res,
        {
          date: date.toUTCString(),
          expires: new Date(date.getTime() + 30_000).toUTCString(),
        },
        `v${n}`,
      ),
    );
    await client.get('/r');
    expect(status(await client.get('/r'))).toBe('HIT');
    clock += 31_000;
    expect(status(await client.get('/r'))).toBe('MISS');
    expect(count()).toBe(2);
  });

  test('Age already spent upstream shortens the freshness', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60', age: '50' }));
    await client.get('/r');
    clock += 5_000;
    const hit = await client.get('/r');
    expect(status(hit)).toBe('HIT');
    expect(hit.headers.get('age')).toBe('55');
    clock += 6_000;
    expect(status(await client.get('/r'))).toBe('MISS');
  });

  test('clock skew: a server Date an hour behind the local clock does not make the response stale', async () => {
    const behind = new Date(clock - 3_600_000).toUTCString();
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60', date: behind }));
    await client.get('/r');
    expect(status(await client.get('/r'))).toBe('HIT');
    expect(count()).toBe(1);
  });

  test('no-store in the response: nothing is stored', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'no-store, max-age=60' }));
    await client.get('/r');
    expect(status(await client.get('/r'))).toBe('MISS');
    expect(count()).toBe(2);
  });

  test('no-store in the request: its response is not stored', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60' }));
    await client.get('/r', { headers: { 'cache-control': 'no-store' } });
    expect(status(await client.get('/r'))).toBe('MISS');
    expect(count()).toBe(2);
  });

  test('no-cache: every use is revalidated, a 304 gives the stored body', async () => {
    await setup((req, res, n) => {
      if (req.headers['if-none-match'] === '"a"') {
        res.writeHead(304, { etag: '"a"', 'cache-control': 'no-cache' });
        res.end();
      } else send(res, { etag: '"a"', 'cache-control': 'no-cache' }, `v${n}`);
    });
    await client.get('/r');
    const again = await client.get('/r');
    expect([again.status, status(again), await again.text()]).toEqual([200, 'REVALIDATED', 'v1']);
    expect(requests[1]!['if-none-match']).toBe('"a"');
    expect(count()).toBe(2);
  });

  test('private: a private cache may store it', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'private, max-age=60' }));
    await client.get('/r');
    expect(status(await client.get('/r'))).toBe('HIT');
  });

  test('must-revalidate: every use is revalidated, and never served stale when the server fails', async () => {
    await setup((req, res, n) => {
      if (n > 2) {
        res.writeHead(503);
        res.end('down');
      } else if (req.headers['if-none-match'] === '"m"') {
        res.writeHead(304, { etag: '"m"' });
        res.end();
      } else
        send(res, {
          etag: '"m"',
          'cache-control': 'max-age=60, must-revalidate, stale-if-error=600',
        });
    });
    await client.get('/r');
    // http-cache-semantics revalidates a must-revalidate entry even while fresh (stricter than RFC 9111).
    expect(status(await client.get('/r'))).toBe('REVALIDATED');
    clock += 61_000;
    const failed = await client.get('/r');
    expect([failed.status, status(failed)]).toEqual([503, 'MISS']);
  });

  test('Vary: a variant is served only for the same values of the varied headers', async () => {
    await setup((req, res) =>
      send(
        res,
        { 'cache-control': 'max-age=60', vary: 'accept-language' },
        String(req.headers['accept-language']),
      ),
    );
    const en = { headers: { 'accept-language': 'en' } };
    await client.get('/r', en);
    const hit = await client.get('/r', en);
    expect([status(hit), await hit.text()]).toEqual(['HIT', 'en']);
    const fr = await client.get('/r', { headers: { 'accept-language': 'fr' } });
    expect([status(fr), await fr.text()]).toEqual(['MISS', 'fr']);
    expect(count()).toBe(2);
  });

  test('ETag: a stale entry is revalidated with If-None-Match and the 304 refreshes its headers', async () => {
    await setup((req, res, n) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60', 'x-seen': String(n) });
        res.end();
      } else send(res, { etag: '"v1"', 'cache-control': 'max-age=1', 'x-seen': '1' }, 'stored');
    });
    await client.get('/r');
    const connections = server.connections;
    clock += 2_000;
    const revalidated = await client.get('/r');
    expect(revalidated.status).toBe(200);
    expect(status(revalidated)).toBe('REVALIDATED');
    expect(await revalidated.text()).toBe('stored');
    expect(revalidated.headers.get('x-seen')).toBe('2');
    // Fresh again for 60 s from the 304, with the connection reused (the 304 was released).
    clock += 30_000;
    const hit = await client.get('/r');
    expect([status(hit), hit.headers.get('x-seen')]).toEqual(['HIT', '2']);
    expect(count()).toBe(2);
    expect(server.connections).toBe(connections);
  });

  test('Last-Modified: a stale entry is revalidated with If-Modified-Since', async () => {
    const modified = new Date(clock - 86_400_000).toUTCString();
    await setup((req, res) => {
      if (req.headers['if-modified-since'] === modified) {
        res.writeHead(304, { 'last-modified': modified });
        res.end();
      } else send(res, { 'last-modified': modified, 'cache-control': 'max-age=1' }, 'stored');
    });
    await client.get('/r');
    clock += 2_000;
    const again = await client.get('/r');
    expect([status(again), await again.text()]).toEqual(['REVALIDATED', 'stored']);
    expect(requests[1]!['if-modified-since']).toBe(modified);
  });

  test('heuristic freshness is off by default and follows Last-Modified when turned on', async () => {
    const modified = new Date(clock - 100_000_000).toUTCString();
    await setup((_req, res) => send(res, { 'last-modified': modified }));
    await client.get('/r');
    expect(status(await client.get('/r'))).not.toBe('HIT');
    await middleware.close();
    await setup((_req, res) => send(res, { 'last-modified': modified }), { heuristic: 0.1 });
    await client.get('/r');
    expect(status(await client.get('/r'))).toBe('HIT');
  });

  test('a HEAD after a GET is answered from the stored GET, without a body', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60', 'x-kind': 'get' }));
    await client.get('/r');
    const head = await client.head('/r');
    expect([head.status, status(head), head.headers.get('x-kind')]).toEqual([200, 'HIT', 'get']);
    expect((await head.bytes()).length).toBe(0);
    expect(count()).toBe(1);
  });

  test('a 308 with max-age is cached (seen with redirect: manual); a 301 without freshness is not', async () => {
    await setup((req, res) => {
      const permanent = req.url === '/r';
      res.writeHead(permanent ? 308 : 301, {
        location: '/elsewhere',
        ...(permanent ? { 'cache-control': 'max-age=600' } : {}),
      });
      res.end();
    });
    await client.get('/r', { redirect: 'manual' });
    const again = await client.get('/r', { redirect: 'manual' });
    expect([again.status, status(again), again.headers.get('location')]).toEqual([
      308,
      'HIT',
      '/elsewhere',
    ]);
    await client.get('/old', { redirect: 'manual' });
    expect(status(await client.get('/old', { redirect: 'manual' }))).toBe('MISS');
    expect([count('/r'), count('/old')]).toEqual([1, 2]);
  });

  test('stale-while-revalidate: concurrent callers get the stale entry and one refresh runs', async () => {
    await setup((_req, res, n) =>
      send(res, { 'cache-control': 'max-age=1, stale-while-revalidate=60' }, `v${n}`),
    );
    await client.get('/r');
    clock += 2_000;
    const stale = await Promise.all(Array.from({ length: 8 }, () => client.get('/r')));
    expect(stale.map(status)).toEqual(Array(8).fill('STALE'));
    expect(await Promise.all(stale.map((r) => r.text()))).toEqual(Array(8).fill('v1'));
    await middleware.settled();
    expect(count()).toBe(2);
    const fresh = await client.get('/r');
    expect([status(fresh), await fresh.text()]).toEqual(['HIT', 'v2']);
  });

  test('stale-while-revalidate with an ETag: the background refresh is conditional and a 304 refreshes the entry', async () => {
    await setup((req, res, n) => {
      const headers = {
        etag: '"v1"',
        'cache-control': 'max-age=1, stale-while-revalidate=60',
        'x-seen': String(n),
      };
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, headers);
        res.end();
      } else send(res, headers, 'stored');
    });
    await client.get('/r');
    clock += 2_000;
    const stale = await client.get('/r');
    expect([status(stale), stale.headers.get('x-seen')]).toEqual(['STALE', '1']);
    await middleware.settled();
    expect(requests[1]!['if-none-match']).toBe('"v1"');
    const fresh = await client.get('/r');
    expect([status(fresh), fresh.headers.get('x-seen'), await fresh.text()]).toEqual([
      'HIT',
      '2',
      'stored',
    ]);
    expect(count()).toBe(2);
  });

  test('stale-if-error: a 503 is replaced by the stale entry, and the 503 is discarded', async () => {
    await setup((_req, res, n) => {
      if (n > 1) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('unavailable');
      } else send(res, { 'cache-control': 'max-age=1, stale-if-error=600' }, 'good');
    });
    await client.get('/r');
    clock += 2_000;
    const answer = await client.get('/r');
    expect([answer.status, status(answer), await answer.text()]).toEqual([200, 'STALE', 'good']);
    clock += 700_000;
    expect((await client.get('/r')).status).toBe(503);
  });

  test('Authorization: not stored unless public (or s-maxage), or with a key function', async () => {
    await setup((req, res) =>
      send(res, {
        'cache-control': req.url === '/public' ? 'public, max-age=60' : 'max-age=60',
      }),
    );
    const auth = { headers: { authorization: 'Bearer secret-token' } };
    await client.get('/r', auth);
    expect(status(await client.get('/r', auth))).toBe('MISS');
    await client.get('/public', auth);
    expect(status(await client.get('/public', auth))).toBe('HIT');
    await middleware.close();
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60' }), {
      key: (ctx) => `user-1 ${ctx.request.url.href}`,
    });
    await client.get('/r', auth);
    expect(status(await client.get('/r', auth))).toBe('HIT');
    expect([count('/r'), count('/public')]).toEqual([3, 1]);
  });

  test('Vary: Authorization keeps the variants apart, and the store holds a hash, never the token', async () => {
    const store = memoryStore();
    await setup(
      (req, res) =>
        send(
          res,
          { 'cache-control': 'public, max-age=60', vary: 'authorization' },
          String(req.headers.authorization),
        ),
      { store },
    );
    const alice = { headers: { authorization: 'Bearer alice-token' } };
    await client.get('/r', alice);
    const hit = await client.get('/r', alice);
    expect([status(hit), await hit.text()]).toEqual(['HIT', 'Bearer alice-token']);
    const bob = await client.get('/r', { headers: { authorization: 'Bearer bob-token' } });
    expect([status(bob), await bob.text()]).toEqual(['MISS', 'Bearer bob-token']);
    const stored = await store.get(`GET ${server.url}/r`);
    expect(JSON.stringify(stored!.policy)).not.toMatch(/alice-token|bob-token/);
  });

  test('maxEntryBytes: a larger body is passed on and not stored', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60' }, 'x'.repeat(2048)), {
      maxEntryBytes: 1024,
    });
    expect((await (await client.get('/r')).text()).length).toBe(2048);
    expect(status(await client.get('/r'))).toBe('MISS');
    expect(count()).toBe(2);
  });

  test('a streamed response (readBody: false) is passed on and not stored', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60' }, 'streamed'));
    const streamed = await client.get('/r', { readBody: false });
    expect(await streamed.text()).toBe('streamed');
    expect(status(await client.get('/r'))).toBe('MISS');
    // Stored now (read bodies): a caller asking for a stream gets one.
    const hit = await client.get('/r', { readBody: false });
    expect(status(hit)).toBe('HIT');
    expect(hit.body).not.toBeNull();
    expect(await hit.text()).toBe('streamed');
  });

  test('each caller gets its own copy of the stored body', async () => {
    await setup((_req, res) => send(res, { 'cache-control': 'max-age=60' }, 'abc'));
    const first = await client.get('/r');
    (await first.bytes()).fill(0);
    const second = await client.get('/r');
    (await second.bytes()).fill(0);
    expect(await (await client.get('/r')).text()).toBe('abc');
  });

  test('a POST is not cached without a key function, and a successful one invalidates the URL', async () => {
    await setup((req, res, n) => {
      if (req.method === 'DELETE' && n > 3) {
        res.writeHead(500);
        res.end();
      } else send(res, { 'cache-control': 'max-age=60' }, `${req.method} ${n}`);
    });
    await client.get('/r');
    expect(status(await client.get('/r'))).toBe('HIT');
    await client.post('/r', { json: {} });
    const again = await client.post('/r', { json: {} });
    expect(status(again)).toBeNull();
    const after = await client.get('/r');
    expect([status(after), await after.text()]).toEqual(['MISS', 'GET 4']);
    // A failed DELETE changed nothing: the entry stays.
    await client.delete('/r');
    expect(status(await client.get('/r'))).toBe('HIT');
    expect(count()).toBe(5);
  });

  test('stale-if-error: with the server down (connection refused) the stale entry is served', async () => {
    const down = await startTestServer((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=1, stale-if-error=600' });
      res.end('kept');
    });
    middleware = cache({ now: () => clock });
    const local = createClient([middleware, undiciTransport()], { baseUrl: down.url });
    try {
      await local.get('/r');
      await down.close();
      clock += 2_000;
      const answer = await local.get('/r');
      expect([status(answer), await answer.text()]).toEqual(['STALE', 'kept']);
      clock += 700_000;
      const error = await local.get('/r').catch((e: unknown) => e);
      expect(isTransportError(error)).toBe(true);
    } finally {
      await local.close();
    }
  });

  test('stale-if-error with the partner failing: the circuit opens, stays open and the stale entry is served without calls', async () => {
    let failing = false;
    await setup((_req, res) => {
      if (failing) {
        res.writeHead(503);
        res.end('down');
      } else send(res, { 'cache-control': 'max-age=1, stale-if-error=600' }, 'kept');
    });
    const states: string[] = [];
    const breaker = circuitBreaker({
      minimumCalls: 2,
      failureRatio: 0.5,
      openMs: 60_000,
      onStateChange: (change) => states.push(change.to),
    });
    const local = createClient([middleware, breaker, expectStatus(), transport], {
      baseUrl: server.url,
    });
    await local.get('/r');
    failing = true;
    clock += 2_000;
    // One failure in two calls opens it (minimumCalls 2, ratio 0.5); the 503 is answered stale.
    const failed = await local.get('/r');
    expect([status(failed), await failed.text()]).toEqual(['STALE', 'kept']);
    expect(states).toEqual(['open']);
    expect(count()).toBe(2);
    // Open: the calls fail fast below the cache (CircuitOpenError) and the partner hears nothing.
    for (let i = 0; i < 5; i++) {
      const answer = await local.get('/r');
      expect([status(answer), await answer.text()]).toEqual(['STALE', 'kept']);
    }
    expect(count()).toBe(2);
    expect(states).toEqual(['open']);
  });

  test('declares its placement: the stack check warns when it sits after retry()', () => {
    const warnings = lintStack([retry(), cache(), transport]);
    expect(warnings.map((w) => w.rule)).toEqual(['inside-retry']);
    expect(lintStack([cache(), retry(), transport])).toEqual([]);
  });

  test('bad options throw ConfigError at creation', () => {
    expect(() => cache({ maxEntryByte: 1 } as CacheOptions)).toThrow(/did you mean maxEntryBytes/);
    expect(() => cache({ heuristic: 2 })).toThrow(/heuristic/);
    const both = () => cache({ redis: 'redis://:pw@127.0.0.1:1', store: { get() {} } as never });
    expect(() => both()).toThrow();
    try {
      cache({ redis: 'redis://:pw@127.0.0.1:1', store: {} as never });
    } catch (error) {
      expect(isConfigError(error)).toBe(true);
      expect(String(error)).not.toContain('pw');
    }
  });
});
