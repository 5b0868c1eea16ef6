// Faults the retry and transport layers must survive: unread retried bodies on a pool of one, idle
// sockets the server closed, bodiless answers that claim a length, aborts mid-body, loops.
import type { Socket } from 'node:net';
import { isTooManyRedirectsError } from '@extapi/core';
import { startTestServer, rawResponse, sharedRedis, startRawServer } from '@extapi/core/testing';
import { concurrencyLimit, rateLimit, retry } from '@extapi/middleware';
import { openTelemetry } from '@extapi/middleware/opentelemetry';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Redis } from 'ioredis';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

const KiB = 1024;
const fast = () => retry({ backoff: { baseMs: 1, maxMs: 5 } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(TRANSPORTS)('faults over %s', (_name, kind) => {
  const guard = useGuard();

  it.each([
    [256 * KiB, 'completes without hanging'],
    [1 * KiB, 'reuses the one socket'],
  ])('retries a 503 with an unread %i-byte body on a pool of one connection: %s', async (size) => {
    let calls = 0;
    const server = await startTestServer((_req, res) => {
      calls++;
      if (calls === 1) {
        res.statusCode = 503;
        return void res.end(Buffer.alloc(size, 97));
      }
      res.end('ok');
    });
    // The server never closes an idle socket, so a pool left blocked by the unread body would stay
    // blocked, and a call waiting on it would never settle: settling proves it was not, however
    // slow or fast the machine (no elapsed-time bound).
    server.server.keepAliveTimeout = 0;
    guard.defer(() => server.close());
    const client = guard.client([fast(), kind.make(guard, { connections: 1 })], {
      baseUrl: server.url,
    });
    const res = await client.get('/', { readBody: false });
    expect([res.status, await res.text()]).toEqual([200, 'ok']);
    // And the pool is free for the next call.
    expect(await (await client.get('/')).text()).toBe('ok');
    expect(calls).toBe(3);
    // The small unread body is drained and its socket reused; the big one is destroyed rather than
    // downloaded, which costs its connection (undici then dials a spare one as well).
    if (size <= KiB) expect(server.connections).toBe(1);
    else expect(server.connections).toBeLessThanOrEqual(3);
  });

  it.each([
    ['with retry()', true],
    ['by the transport alone', false],
  ])(
    'hides a keep-alive socket the server closed while idle from an idempotent caller (%s)',
    async (_label, withRetry) => {
      const server = await startTestServer((_req, res) => void res.end('ok'));
      server.server.keepAliveTimeout = 1_000;
      guard.defer(() => server.close());
      const transport = kind.make(guard);
      const client = guard.client(withRetry ? [fast(), transport] : [transport], {
        baseUrl: server.url,
      });
      expect(await (await client.get('/one')).text()).toBe('ok');
      await sleep(1_050);
      expect(await (await client.get('/two')).text()).toBe('ok');
      expect(await (await client.head('/three')).text()).toBe('');
      // The idle socket was gone: the later calls went on new ones (undici reads the server's
      // "keep-alive: timeout=1" as too short to reuse a socket at all).
      expect(server.connections).toBeGreaterThanOrEqual(2);
      expect(server.arrivals.map((a) => a.url)).toEqual(['/one', '/two', '/three']);
    },
  );

  // Reuse is not asserted: undici 7.30 destroys the socket after a 204/304 that claims a length
  // (ResponseContentLengthMismatchError, which the transports swallow) and, after such a HEAD,
  // stops reusing sockets on that pool altogether (see README.md, "Known upstream limits").
  it.each([
    ['HEAD', 200],
    ['GET', 204],
    ['GET', 304],
  ])(
    'resolves a %s answered %i with content-length: 1000 at once, and the next call still works',
    async (method, status) => {
      const raw = await startRawServer((req, socket) => {
        if (req.path === '/bogus') {
          socket.write(
            `HTTP/1.1 ${status} X\r\ncontent-length: 1000\r\nconnection: keep-alive\r\n\r\n`,
          );
        } else socket.write(rawResponse(200, 'after'));
      });
      guard.defer(() => raw.close());
      const client = guard.client([kind.make(guard, { connections: 1 })], { baseUrl: raw.url });
      for (let i = 0; i < 2; i++) {
        // The 1000 bytes never come, so a call that waited for them would never settle (and fail
        // on the test's timeout): settling at all proves it did not, whatever the machine's speed.
        const res = await client.request('/bogus', { method });
        expect(res.status).toBe(status);
        expect(await res.text()).toBe('');
        expect(await (await client.get('/next')).text()).toBe('after');
      }
      expect(raw.requests.map((r) => r.path)).toEqual(['/bogus', '/next', '/bogus', '/next']);
    },
  );

  it('errors a streamed body with the abort reason, does not reuse its socket, and leaves the span status unset', async () => {
    const server = await startTestServer((req, res) => {
      if (req.url !== '/stream') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024, 1));
      const timer = setInterval(() => res.write(Buffer.alloc(1024, 2)), 10);
      res.once('close', () => clearInterval(timer));
    });
    guard.defer(() => server.close());
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    guard.defer(() => provider.shutdown());
    const client = guard.client(
      [
        openTelemetry({ tracer: provider.getTracer('hardening') }),
        kind.make(guard, { connections: 1 }),
      ],
      { baseUrl: server.url },
    );
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const res = await client.get('/stream', { signal: controller.signal, readBody: false });
    const iterator = res.body![Symbol.asyncIterator]();
    expect(((await iterator.next()).value as Buffer).byteLength).toBeGreaterThan(0);
    controller.abort(reason);
    const failure = await (async () => {
      for (;;) if ((await iterator.next()).done) return new Error('the body ended');
    })().catch((e: unknown) => e);
    expect(failure).toBe(reason);
    expect(await (await client.get('/after')).text()).toBe('ok');
    expect(server.connections).toBe(2);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.status.code)).toEqual([0, 0]);
    expect(spans.map((s) => s.attributes['error.type'])).toEqual([undefined, undefined]);
  });

  describe('an already-aborted signal', () => {
    let redis: { url: string; stop(): Promise<void> };
    beforeAll(async () => {
      redis = await sharedRedis();
    }, 15_000);
    afterAll(() => redis.stop());

    it('rejects at once, opens no socket, takes no limiter slot and makes no Redis call', async () => {
      const server = await startTestServer((_req, res) => void res.end('ok'));
      guard.defer(() => server.close());
      const id = `hardening-${process.pid}-${Date.now()}-${kind.name}`;
      // ioredis clients of our own: jest cannot run the limiters' dynamic import of ioredis.
      const connection = new Redis(redis.url);
      guard.defer(() => connection.quit());
      const rate = rateLimit({ limit: 1_000, windowMs: 1_000, redis: connection, id });
      // concurrencyLimit's Redis mode loads redis-semaphore by dynamic import, which jest cannot
      // run either: the local slots stand for it (the guard checks them idle after the test).
      const slots = concurrencyLimit({ max: 2 });
      guard.defer(() => rate.close());
      guard.defer(() => slots.close());
      guard.watchLimiter(slots, 2);
      // rateLimit inside concurrencyLimit, the order it declares (no stack-order warning).
      const client = guard.client([slots, rate, kind.make(guard)], { baseUrl: server.url });

      // monitor() opens a second connection in monitor mode; both are closed after the test.
      // Every other connection is ready first: a command that reaches Redis while MONITOR is being
      // set up shows a line before ioredis knows the connection monitors, which it then takes for
      // a reply to nothing ("Command queue state error").
      const watcher = new Redis(redis.url);
      guard.defer(() => watcher.quit());
      await Promise.all([connection.ping(), watcher.ping()]);
      const monitor = await watcher.monitor();
      guard.defer(() => monitor.disconnect());
      const lines: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        lines.push(args.join(' '));
      });
      const count = () => lines.length;
      // Warm up: connections made and scripts loaded, so the count below is the call's alone.
      expect(await (await client.get('/warm')).text()).toBe('ok');
      // MONITOR's lines arrive on their own connection, late on a loaded machine: wait until the
      // warm-up's have come and the count has stood still for 300 ms, not a fixed 100 ms.
      const quietBy = performance.now() + 10_000;
      for (let last = -1; (count() === 0 || count() !== last) && performance.now() < quietBy; ) {
        last = count();
        await sleep(300);
      }
      const before = { commands: count(), connections: server.connections };

      const reason = new Error('already cancelled');
      let error: unknown = 'pending';
      client.get('/never', { signal: AbortSignal.abort(reason) }).catch((e: unknown) => {
        error = e;
      });
      // "At once": settled within this turn of the event loop (a setImmediate runs after every
      // pending microtask), so without a round trip to Redis or the server, however slow the machine.
      await new Promise((resolve) => setImmediate(resolve));
      expect(error).toBe(reason);
      // A marker sent on the limiter's own connection after the call: Redis runs that connection's
      // commands in order, so once the marker's line is in, any command the call had sent is in too
      // (waiting for a state, not a fixed 100 ms).
      const marker = `marker-${id}`;
      expect(await connection.echo(marker)).toBe(marker);
      while (!lines.some((line) => line.includes(marker))) await sleep(10);
      expect(lines.slice(before.commands)).toEqual([`echo ${marker}`]);
      expect(server.connections).toBe(before.connections);
      expect(server.arrivals.map((a) => a.url)).toEqual(['/warm']);

      // The monitor does see a call that runs: the lines above could have moved.
      const afterMarker = count();
      expect(await (await client.get('/counted')).text()).toBe('ok');
      // MONITOR's lines arrive on their own connection: wait for them rather than a fixed 100 ms.
      const until = performance.now() + 10_000;
      while (count() === afterMarker && performance.now() < until) await sleep(10);
      expect(count()).toBeGreaterThan(afterMarker);
    });
  });

  it('stops a redirect loop A → B → A with TooManyRedirectsError after maxRedirects', async () => {
    let a = 0;
    let b = 0;
    const serverB = await startRawServer((_req, socket: Socket) => {
      b++;
      socket.write(rawResponse(302, '', [`location: http://127.0.0.1:${serverA.port}/a`]));
    });
    const serverA = await startRawServer((_req, socket: Socket) => {
      a++;
      socket.write(rawResponse(302, '', [`location: ${serverB.url}/b`]));
    });
    guard.defer(() => serverA.close());
    guard.defer(() => serverB.close());
    const client = guard.client([kind.make(guard)], { baseUrl: serverA.url });
    const error = await client.get('/a').catch((e: unknown) => e);
    expect(isTooManyRedirectsError(error) && error.maxRedirects).toBe(5);
    expect(a + b).toBe(6);
    const short = await client.get('/a', { maxRedirects: 2 }).catch((e: unknown) => e);
    expect(isTooManyRedirectsError(short) && short.maxRedirects).toBe(2);
    expect(a + b).toBe(9);
    expect([serverA.connections, serverB.connections]).toEqual([1, 1]);
  });
});
