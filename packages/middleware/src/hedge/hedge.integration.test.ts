// hedge() end to end: a real server on 127.0.0.1 that stalls chosen requests, through both
// transports. Ordering comes from the server's own events (arrivals, closes), never from timings.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { createClient, type Middleware, type Transport } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { concurrencyLimit } from '../limits/index.js';
import { retry } from '../retry/index.js';
import { type HedgeOptions, hedge, hedgeNumber } from './index.js';

/** How the server answers request n (0-based, over the whole server): stall, or answer now. */
type Plan = (
  n: number,
  path: string,
  headers: IncomingHttpHeaders,
) => { stall?: boolean; status?: number; body?: string };

// A stalled request answers only when the client goes away, or after this hang guard.
const HANG_GUARD_MS = 10_000;

interface Served {
  server: TestServer;
  /** Requests seen, in order of arrival: method, path, headers, body, connection. */
  seen: {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    key: string | undefined;
    body: string;
    socket: Socket;
  }[];
  /** Requests whose client went away before they were answered. */
  abandoned: number[];
  /** Resolves once `count` requests have been abandoned. */
  abandonedCount(count: number): Promise<void>;
}

async function serve(plan: Plan): Promise<Served> {
  const seen: Served['seen'] = [];
  const abandoned: number[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const server = await startTestServer(async (req, res) => {
    const n = seen.length;
    const entry = {
      method: req.method!,
      path: req.url!,
      headers: req.headers,
      key: req.headers['idempotency-key'] as string | undefined,
      body: '',
      socket: req.socket,
    };
    seen.push(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    entry.body = Buffer.concat(chunks).toString();
    const step = plan(n, entry.path, entry.headers);
    if (step.stall) {
      await new Promise<void>((resolve) => {
        const guard = setTimeout(resolve, HANG_GUARD_MS);
        res.once('close', () => {
          clearTimeout(guard);
          resolve();
        });
      });
      if (!res.writableEnded) {
        abandoned.push(n);
        wake();
        return;
      }
    }
    res.writeHead(step.status ?? 200, { 'content-type': 'text/plain' });
    res.end(step.body ?? `answer ${n}`);
  });
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (done() ? resolve() : waiters.push(check));
      check();
    });
  return {
    server,
    seen,
    abandoned,
    abandonedCount: (count) => until(() => abandoned.length >= count),
  };
}

const transports: [string, () => Transport][] = [
  ['undici', () => undiciTransport()],
  ['fetch', () => fetchTransport()],
];

describe.each(transports)('hedge end to end over the %s transport', (_name, makeTransport) => {
  let served: Served | undefined;
  let transport: Transport;

  beforeEach(() => {
    transport = makeTransport();
  });
  afterEach(async () => {
    await transport.close();
    await served?.server.close();
    served = undefined;
  });

  /** A client of `above`, hedge(options) with a 20 ms delay and no budget, `below`, transport. */
  async function start(
    plan: Plan,
    options: HedgeOptions = {},
    { above = [], below = [] }: { above?: Middleware[]; below?: Middleware[] } = {},
  ) {
    served = await serve(plan);
    const hedges: number[] = [];
    const client = createClient([
      ...above,
      hedge({ delayMs: 20, budget: false, onHedge: (info) => hedges.push(info.hedge), ...options }),
      ...below,
      transport,
    ]);
    return { client, served, hedges, url: served.server.url };
  }

  it('answers with the hedge when the first request stalls, and releases the loser', async () => {
    const { client, served, url } = await start((n) =>
      n === 0 ? { stall: true } : { body: 'fast' },
    );
    const response = await client.get(`${url}/item`);
    expect(await response.text()).toBe('fast');
    await served.abandonedCount(1);
    expect(served.abandoned).toEqual([0]);
    expect(served.seen).toHaveLength(2);
    // The loser's connection is closed (an HTTP/1.1 request can only be aborted so); the winner's
    // stays open in the pool for the next call.
    expect(served.seen[0]!.socket.destroyed).toBe(true);
    expect(served.seen[1]!.socket.destroyed).toBe(false);
  });

  it('sends no hedge to a server that answers at once', async () => {
    const { client, served, url, hedges } = await start(() => ({ body: 'ok' }), {
      delayMs: 5_000,
    });
    for (let i = 0; i < 5; i++) expect(await (await client.get(`${url}/item`)).text()).toBe('ok');
    expect(served.seen).toHaveLength(5);
    expect(hedges).toEqual([]);
  });

  it('sends up to maxHedges hedges and aborts every loser', async () => {
    const { client, served, url, hedges } = await start(
      (n) => (n < 2 ? { stall: true } : { body: 'third' }),
      { maxHedges: 2 },
    );
    expect(await (await client.get(`${url}/item`)).text()).toBe('third');
    expect(hedges).toEqual([1, 2]);
    await served.abandonedCount(2);
    expect(served.abandoned.sort()).toEqual([0, 1]);
    expect(served.seen.map((s) => s.socket.destroyed)).toEqual([true, true, false]);
  });

  it('never hedges a POST without an Idempotency-Key', async () => {
    // Below hedge(), the answer is held for a hundred times the 2 ms delay before it goes up.
    const hold: Middleware = async (ctx, next) => {
      const response = await next(ctx);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return response;
    };
    const { client, served, url, hedges } = await start(
      () => ({ body: 'created' }),
      { delayMs: 2 },
      { below: [hold] },
    );
    expect(await (await client.post(`${url}/items`, { json: { a: 1 } })).text()).toBe('created');
    expect(served.seen).toHaveLength(1);
    expect(hedges).toEqual([]);
  });

  it('hedges a POST with an Idempotency-Key, sending the same key and body', async () => {
    const { client, served, url } = await start((n) =>
      n === 0 ? { stall: true } : { status: 201, body: 'created' },
    );
    const response = await client.post(`${url}/items`, {
      json: { a: 1 },
      headers: { 'idempotency-key': 'order-7' },
    });
    expect(response.status).toBe(201);
    expect(served.seen.map((s) => [s.method, s.key, s.body])).toEqual([
      ['POST', 'order-7', '{"a":1}'],
      ['POST', 'order-7', '{"a":1}'],
    ]);
    await served.abandonedCount(1);
  });

  it('stops hedging when the budget is spent, and waits for the attempt', async () => {
    // One token and nothing earned: the first slow call hedges, the second waits for its request.
    const seenByPath = new Map<string, number>();
    const { client, served, url, hedges } = await start(
      (_n, path) => {
        const k = seenByPath.get(path) ?? 0;
        seenByPath.set(path, k + 1);
        return k === 0 ? { stall: true } : { body: `fast ${path}` };
      },
      { budget: { ratio: 0, perSecond: 0, maxTokens: 1 } },
    );
    expect(await (await client.get(`${url}/a`)).text()).toBe('fast /a');
    const second = client.get(`${url}/b`, { signal: AbortSignal.timeout(300) });
    await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(hedges).toEqual([1]);
    expect(served.seen.map((s) => s.path)).toEqual(['/a', '/a', '/b']);
    await served.abandonedCount(2);
  });

  it("aborts every attempt when the caller aborts, and rejects with the caller's reason", async () => {
    const controller = new AbortController();
    const { client, served, url } = await start(() => ({ stall: true }), {
      onHedge: () => {
        // The hedge is on its way: abort once the server has it.
        const poll = () =>
          served.seen.length === 2 ? controller.abort(reason) : setImmediate(poll);
        poll();
      },
    });
    const reason = new Error('caller gave up');
    await expect(client.get(`${url}/item`, { signal: controller.signal })).rejects.toBe(reason);
    await served.abandonedCount(2);
    expect(served.abandoned.sort()).toEqual([0, 1]);
  });

  it('hedges an attempt of retry() above it; the hedge passes the layers below hedge()', async () => {
    // The server answers by attempt and hedge (sent as headers by a layer below hedge()), not by
    // arrival order: attempt 1 gets 503 (whether or not its hedge went out before it), attempt 2
    // stalls and its hedge answers.
    const seen: string[] = [];
    const mark: Middleware = (ctx, next) => {
      const tag = `${ctx.attempt}.${hedgeNumber(ctx)}`;
      seen.push(tag);
      ctx.request.headers.set('x-try', tag);
      return next(ctx);
    };
    const { client, served, url } = await start(
      (_n, _path, headers) =>
        headers['x-try'] === '2.0'
          ? { stall: true }
          : headers['x-try'] === '2.1'
            ? { body: 'hedge' }
            : { status: 503 },
      {},
      { above: [retry({ sleep: async () => {} })], below: [concurrencyLimit({ max: 2 }), mark] },
    );
    expect(await (await client.get(`${url}/item`)).text()).toBe('hedge');
    expect(seen.filter((tag) => tag !== '1.1')).toEqual(['1.0', '2.0', '2.1']);
    await served.abandonedCount(1);
    expect(served.abandoned.map((n) => served.seen[n]!.headers['x-try'])).toEqual(['2.0']);
  });
});
