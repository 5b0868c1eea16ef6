// retry(), timeout(), headers() and expectStatus() end to end: a real server on 127.0.0.1 scripted
// with status sequences, delays, Retry-After and socket resets, through both transports.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import {
  createClient,
  isTransportError,
  MAX_TIMER_MS,
  TimeoutError,
  type Transport,
  type TransportError,
} from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { expectStatus } from '../expect-status.js';
import { headers } from '../headers.js';
import { timeout } from '../timeout.js';
import { type RetryOptions, retry } from './index.js';

interface Step {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait before answering (ends early when the client goes away). */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
}

interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server answering request n with `script[n]` (the last step repeats), recording what it saw. */
async function scripted(script: Step[] | ((n: number) => Step)) {
  const seen: Seen[] = [];
  const server = await startTestServer(async (req, res) => {
    const n = seen.length;
    const entry: Seen = { method: req.method!, headers: req.headers, body: '' };
    seen.push(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    entry.body = Buffer.concat(chunks).toString();
    const step = typeof script === 'function' ? script(n) : script[Math.min(n, script.length - 1)]!;
    if (step.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, step.delayMs);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed) return;
    }
    if (step.reset) {
      req.socket.destroy();
      return;
    }
    res.writeHead(step.status ?? 200, { 'content-type': 'text/plain', ...step.headers });
    res.end(step.body ?? '');
  });
  return { server, seen };
}

// Fast backoff so the real waits of these tests stay in the milliseconds.
const FAST: RetryOptions = { backoff: { baseMs: 5, maxMs: 20 } };

// "At once" is proved without a clock: what the call must not wait for is made to take weeks (a
// Retry-After of 23 days under a cap of 24 days, a server that answers after 24 days), so a call
// that waited for it would never settle and the test would fail on its timeout, however slow or
// fast the machine.
/** A Retry-After (in s) of 23 days, which a cap of `MAX_TIMER_MS` allows retry() to wait for. */
const WEEKS_S = '2000000';

const transports: [string, () => Transport][] = [
  ['undici', () => undiciTransport()],
  ['fetch', () => fetchTransport()],
];

describe.each(transports)('retry end to end over the %s transport', (_name, makeTransport) => {
  let server: TestServer | undefined;
  let transport: Transport;

  beforeEach(() => {
    transport = makeTransport();
  });
  afterEach(async () => {
    await transport.close();
    await server?.close();
    server = undefined;
  });

  async function start(script: Step[] | ((n: number) => Step)) {
    const s = await scripted(script);
    server = s.server;
    return s;
  }

  test('retries a status sequence 503, 502 and returns the 200 that follows', async () => {
    const { server, seen } = await start([
      { status: 503 },
      { status: 502 },
      { status: 200, body: 'ok' },
    ]);
    const client = createClient([retry(FAST), transport]);
    const res = await client.get(`${server.url}/items`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(seen).toHaveLength(3);
  });

  test('returns the last 500 as it is after maxAttempts, with its body', async () => {
    const { server, seen } = await start([{ status: 500, body: 'broken' }]);
    const res = await createClient([retry(FAST), transport]).get(`${server.url}/`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('broken');
    expect(seen).toHaveLength(3);
  });

  test("retries a socket reset and gives up with the last attempt's TransportError", async () => {
    const { server, seen } = await start([{ reset: true }, { status: 200 }]);
    const client = createClient([retry(FAST), transport]);
    expect((await client.get(`${server.url}/`)).status).toBe(200);
    expect(seen).toHaveLength(2);

    const always = await scripted([{ reset: true }]);
    try {
      const failure = (await client
        .get(`${always.server.url}/`)
        .catch((e: unknown) => e)) as TransportError;
      expect(isTransportError(failure)).toBe(true);
      expect(failure.code).toBe('ECONNRESET');
      expect(failure.attempts).toBe(3);
      expect(failure.previousErrors).toHaveLength(2);
      expect(failure.previousErrors.every(isTransportError)).toBe(true);
      expect(always.seen).toHaveLength(3);
    } finally {
      await always.server.close();
    }
  });

  test('does not sleep after the last attempt', async () => {
    const { server, seen } = await start([{ status: 503 }]);
    // The one wait (after attempt 1) is 0 ms; a wait after the last attempt would be 0.9 x
    // MAX_TIMER_MS (22 days): the call settling at all proves there is none.
    const randoms = [0, 0.9];
    const client = createClient([
      retry({
        maxAttempts: 2,
        backoff: { baseMs: MAX_TIMER_MS },
        random: () => randoms.shift() ?? 0.9,
      }),
      transport,
    ]);
    expect((await client.get(`${server.url}/`)).status).toBe(503);
    expect(seen).toHaveLength(2);
    // One draw, for the wait after attempt 1; none for a wait after the last.
    expect(randoms).toEqual([0.9]);
  });

  test('honours Retry-After in seconds from the server', async () => {
    const { server, seen } = await start([
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 200 },
    ]);
    const waits: number[] = [];
    const client = createClient([retry({ onRetry: (i) => waits.push(i.delayMs) }), transport]);
    expect((await client.get(`${server.url}/`)).status).toBe(200);
    expect(waits).toEqual([0]);
    expect(seen).toHaveLength(2);
  });

  test('honours Retry-After given as an HTTP-date', async () => {
    const { server } = await start((n) =>
      n === 0
        ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 3_000).toUTCString() } }
        : { status: 200 },
    );
    const waits: number[] = [];
    const client = createClient([
      retry({
        onRetry: (i) => waits.push(i.delayMs),
        // Record the wait instead of sleeping 3 s; the value is what is under test.
        sleep: async () => {},
      }),
      transport,
    ]);
    expect((await client.post(`${server.url}/`, { body: 'x' })).status).toBe(200);
    expect(waits).toHaveLength(1);
    // HTTP-dates have whole seconds: 3 s ahead, truncated, minus the round trip.
    expect(waits[0]).toBeGreaterThan(1_000);
    expect(waits[0]).toBeLessThanOrEqual(3_000);
  });

  test('honours X-RateLimit-Reset on a 429', async () => {
    const { server } = await start([
      { status: 429, headers: { 'x-ratelimit-reset': '0' } },
      { status: 200 },
    ]);
    const reasons: string[] = [];
    const client = createClient([
      retry({ ...FAST, onRetry: (i) => reasons.push(`${i.reason}:${i.delayMs}`) }),
      transport,
    ]);
    expect((await client.get(`${server.url}/`)).status).toBe(200);
    expect(reasons).toEqual(['status 429:0']);
  });

  test('returns a 429 at once when Retry-After exceeds maxRetryAfterMs', async () => {
    // 23 days over a cap of 11.6: a call that waited for either would never settle.
    const { server, seen } = await start([
      { status: 429, headers: { 'retry-after': WEEKS_S }, body: 'later' },
    ]);
    const client = createClient([retry({ maxRetryAfterMs: 1_000_000_000 }), transport]);
    const res = await client.get(`${server.url}/`);
    expect(res.status).toBe(429);
    expect(await res.text()).toBe('later');
    expect(seen).toHaveLength(1);
  });

  test('rejects at once when aborted during a 23-day Retry-After wait', async () => {
    const { server, seen } = await start([{ status: 503, headers: { 'retry-after': WEEKS_S } }]);
    const controller = new AbortController();
    const reason = new Error('caller aborted');
    const waits: number[] = [];
    const client = createClient([
      retry({
        maxRetryAfterMs: MAX_TIMER_MS,
        onRetry: (info) => {
          waits.push(info.delayMs);
          setTimeout(() => controller.abort(reason), 20);
        },
      }),
      transport,
    ]);
    // Only the abort can end the wait before the test's timeout.
    await expect(client.get(`${server.url}/`, { signal: controller.signal })).rejects.toBe(reason);
    expect(waits).toEqual([2_000_000_000]);
    expect(seen).toHaveLength(1);
  });

  test('rejects at once with the reason when aborted during an attempt', async () => {
    // The server answers in 24 days: only the abort can end the attempt before the test's timeout.
    const { server, seen } = await start([{ delayMs: MAX_TIMER_MS }]);
    const controller = new AbortController();
    const reason = new Error('stop');
    const call = createClient([retry(), transport]).get(`${server.url}/`, {
      signal: controller.signal,
    });
    // Aborted once the attempt is at the server, not after a fixed time a loaded machine outruns.
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(seen).toHaveLength(1);
  });

  test('gives each attempt its own deadline with timeout() after retry()', async () => {
    const { server, seen } = await start([{ delayMs: 5_000 }, { status: 200, body: 'fast' }]);
    // 1 s per attempt: the first (5 s) still times out, and a loaded machine's round trip for the
    // second never does (with 50 ms it sometimes did, and a third attempt was made).
    const client = createClient([retry(FAST), timeout({ ms: 1_000 }), transport]);
    const res = await client.get(`${server.url}/`);
    expect(await res.text()).toBe('fast');
    expect(seen).toHaveLength(2);
  });

  test('bounds the whole call with timeout() before retry()', async () => {
    // retry() would wait 23 days before its second attempt: only the 60 ms deadline can end it.
    const { server, seen } = await start([{ status: 503, headers: { 'retry-after': WEEKS_S } }]);
    const client = createClient([
      timeout({ ms: 60 }),
      retry({ maxRetryAfterMs: MAX_TIMER_MS }),
      transport,
    ]);
    const failure = await client.get(`${server.url}/`).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TimeoutError);
    expect((failure as TimeoutError).timeoutMs).toBe(60);
    // No second attempt (the first may or may not have reached the server within 60 ms).
    expect(seen.length).toBeLessThanOrEqual(1);
  });

  test('sends a stream body once and does not retry it', async () => {
    const { server, seen } = await start([{ status: 503 }, { status: 200 }]);
    const client = createClient([retry(FAST), transport]);
    const body = Readable.from([Buffer.from('chunk-1,'), Buffer.from('chunk-2')]);
    const res = await client.put(`${server.url}/upload`, { body });
    expect(res.status).toBe(503);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).toBe('chunk-1,chunk-2');
  });

  test('does not retry a POST on a 500 or a reset, but does on a 503', async () => {
    const { server, seen } = await start([
      { status: 500 },
      { reset: true },
      { status: 503 },
      { status: 201 },
    ]);
    const client = createClient([retry(FAST), transport]);
    expect((await client.post(`${server.url}/`, { body: 'a' })).status).toBe(500);
    expect(
      isTransportError(await client.post(`${server.url}/`, { body: 'b' }).catch((e: unknown) => e)),
    ).toBe(true);
    expect((await client.post(`${server.url}/`, { body: 'c' })).status).toBe(201);
    expect(seen.map((s) => s.body)).toEqual(['a', 'b', 'c', 'c']);
  });

  test('sends the same Idempotency-Key on every attempt of a POST', async () => {
    const { server, seen } = await start([{ status: 500 }, { reset: true }, { status: 201 }]);
    const client = createClient([retry({ ...FAST, idempotencyKey: true }), transport]);
    expect((await client.post(`${server.url}/orders`, { json: { sku: 1 } })).status).toBe(201);
    const keys = seen.map((s) => s.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.every((s) => s.body === '{"sku":1}')).toBe(true);
  });

  test('sets headers afresh on every attempt', async () => {
    const { server, seen } = await start([{ status: 503 }, { status: 503 }, { status: 200 }]);
    const client = createClient([
      retry(FAST),
      headers((h, ctx) => h.append('x-attempt', String(ctx.attempt))),
      headers({ 'x-static': 'one' }),
      transport,
    ]);
    await client.get(`${server.url}/`);
    expect(seen.map((s) => s.headers['x-attempt'])).toEqual(['1', '2', '3']);
    expect(seen.map((s) => s.headers['x-static'])).toEqual(['one', 'one', 'one']);
  });

  test('retries the HttpStatusError of an inner expectStatus for a 503, not for a 404', async () => {
    const { server, seen } = await start([{ status: 503 }, { status: 404, body: 'missing' }]);
    const client = createClient([retry(FAST), expectStatus([200]), transport]);
    const failure = await client.get(`${server.url}/`).catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: 'HttpStatusError', status: 404 });
    expect(await (failure as { response: { text(): Promise<string> } }).response.text()).toBe(
      'missing',
    );
    expect(seen).toHaveLength(2);
  });

  test('stops retrying a 100%-failing upstream once the budget is spent', async () => {
    const { server, seen } = await start([{ status: 503 }]);
    const client = createClient([retry({ ...FAST, budget: { now: () => 0 } }), transport]);
    for (let i = 0; i < 40; i++) await client.get(`${server.url}/`);
    // 40 calls, 10 starting tokens and 39 × 0.2 earned: 17 retries, where 80 would be sent without.
    expect(seen).toHaveLength(57);
  });
});
