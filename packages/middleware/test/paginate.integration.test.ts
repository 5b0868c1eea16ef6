// client.paginate() and client.pages() end to end: real node:http partners (GitHub-style Link
// headers, a cursor API, an offset API) through both transports and real middleware (retry, counting).
import type { IncomingHttpHeaders } from 'node:http';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import {
  type Client,
  createClient,
  defineMiddleware,
  isPaginationError,
  type Middleware,
  type Transport,
} from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { expectStatus } from '../src/expect-status.js';
import { retry } from '../src/retry/index.js';

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

/** Every item of an async iterable. */
async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const ROWS = Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }));

/** The partner: a list of 7 rows served three ways, recording every request. */
async function startPartner(otherOrigin: () => string) {
  const seen: Seen[] = [];
  const failures = new Set<string>();
  let release: () => void = () => {};
  const server = await startTestServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push({ path: req.url!, headers: req.headers });
    const json = (body: unknown, headers: Record<string, string> = {}, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const page = Number(url.searchParams.get('page') ?? 1);
    const perPage = Number(url.searchParams.get('per_page') ?? 3);
    const last = Math.ceil(ROWS.length / perPage);
    const rows = ROWS.slice((page - 1) * perPage, page * perPage);
    switch (url.pathname) {
      case '/repos': {
        // GitHub's shape: a relative next link from page 1, absolute ones after, rel=last/prev/first.
        if (url.searchParams.has('flaky') && page === 2 && !failures.has(req.url!)) {
          failures.add(req.url!);
          return json({ message: 'try again' }, {}, 503);
        }
        const base = `${server.url}/repos?per_page=${perPage}${url.searchParams.has('flaky') ? '&flaky' : ''}`;
        const links = [
          page === 1 &&
            `</repos?page=2&per_page=${perPage}${url.searchParams.has('flaky') ? '&flaky' : ''}>; rel="next"`,
          page > 1 && page < last && `<${base}&page=${page + 1}>; rel="next"`,
          page < last && `<${base}&page=${last}>; rel="last"`,
          page > 1 && `<${base}&page=${page - 1}>; rel="prev", <${base}&page=1>; rel="first"`,
        ].filter(Boolean);
        return json(rows, links.length ? { link: links.join(', ') } : {});
      }
      case '/events': {
        const cursor = Number(url.searchParams.get('cursor') ?? 0);
        const items = ROWS.slice(cursor, cursor + 3);
        const next = cursor + 3 < ROWS.length ? String(cursor + 3) : null;
        return json({ items, next_cursor: next });
      }
      case '/rows': {
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 3);
        return json(ROWS.slice(offset, offset + limit));
      }
      case '/bulky':
        // 1 KB per page, left unread by the caller: discarded, its connection reused.
        return json([{ pad: 'x'.repeat(1024) }], { link: `</bulky?page=${page + 1}>; rel=next` });
      case '/hang':
        if (page === 1) return json([1, 2], { link: '</hang?page=2>; rel=next' });
        release = () => res.destroy();
        return;
      case '/away':
        return json([{ id: 'here' }], { link: `<${otherOrigin()}/list>; rel="next"` });
      case '/object':
        return json({ data: ROWS, total: ROWS.length });
      default:
        return json({ message: 'not found' }, {}, 404);
    }
  });
  return { server, seen, release: () => release() };
}

/** Another origin, recording what reached it. */
async function startOther() {
  const seen: Seen[] = [];
  const server = await startTestServer((req, res) => {
    seen.push({ path: req.url!, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify([{ id: 'there' }]));
  });
  return { server, seen };
}

/** A middleware counting the calls that pass it. */
function counter(name: string): { mw: Middleware; count: number } {
  const counted = {
    count: 0,
    mw: defineMiddleware(
      async function count(_ctx, next) {
        counted.count++;
        return next();
      },
      { name },
    ),
  };
  return counted;
}

const transports: [string, () => Transport][] = [
  ['undici', () => undiciTransport()],
  ['fetch', () => fetchTransport()],
];

describe.each(transports)('client.paginate() over the %s transport', (_name, makeTransport) => {
  let partner: Awaited<ReturnType<typeof startPartner>>;
  let other: Awaited<ReturnType<typeof startOther>>;
  let transport: Transport;
  let servers: TestServer[];

  beforeEach(async () => {
    other = await startOther();
    partner = await startPartner(() => other.server.url);
    servers = [partner.server, other.server];
    transport = makeTransport();
  });
  afterEach(async () => {
    await transport.close();
    for (const server of servers) await server.close();
  });

  const client = (stack: Middleware[] = [], options = {}): Client =>
    createClient([...stack, transport], { baseUrl: partner.server.url, ...options });
  const paths = () => partner.seen.map((s) => s.path);

  test('follows GitHub-style Link headers, relative then absolute, to the last page', async () => {
    const rows = await all(client().paginate<{ id: number }>('/repos'));
    expect(rows).toEqual(ROWS);
    expect(paths()).toEqual(['/repos', '/repos?page=2&per_page=3', '/repos?per_page=3&page=3']);
  });

  test('reads a cursor API ({ items, next_cursor }) through next()', async () => {
    interface Events {
      items: { id: number }[];
      next_cursor: string | null;
    }
    const rows = await all(
      client().paginate<{ id: number }>('/events', {
        items: async (res) => (await res.json<Events>()).items,
        next: async ({ response }) => {
          const cursor = (await response.json<Events>()).next_cursor;
          return cursor === null ? undefined : { query: { cursor } };
        },
      }),
    );
    expect(rows).toEqual(ROWS);
    expect(paths()).toEqual(['/events', '/events?cursor=3', '/events?cursor=6']);
  });

  test('reads an offset API, stopping at the first short page', async () => {
    const rows = await all(
      client().paginate<{ id: number }>('/rows', {
        query: { limit: 3 },
        next: ({ items, itemCount }) =>
          items.length < 3 ? undefined : { query: { offset: itemCount } },
      }),
    );
    expect(rows).toEqual(ROWS);
    expect(paths()).toEqual(['/rows?limit=3', '/rows?limit=3&offset=3', '/rows?limit=3&offset=6']);
  });

  test('stops at maxPages and at maxItems without asking for another page', async () => {
    expect(await all(client().paginate('/repos', { maxPages: 2 }))).toHaveLength(6);
    expect(partner.seen).toHaveLength(2);
    const pages = await all(client().pages('/repos', { maxItems: 4 }));
    expect(pages.map((p) => p.items.length)).toEqual([3, 1]);
    expect(partner.seen).toHaveLength(4);
  });

  // Sequential calls on a keep-alive pool open at most 2 connections (the conformance suite's bound):
  // a socket leaked or destroyed by each break would show as one connection per round.
  const ROUNDS = 20;

  test('break after the first item sends no further request and leaves the socket reusable', async () => {
    const c = client();
    for (let round = 0; round < ROUNDS; round++) {
      for await (const row of c.paginate('/repos')) {
        expect(row).toEqual({ id: 1 });
        break;
      }
    }
    expect(paths()).toEqual(Array(ROUNDS).fill('/repos'));
    expect(partner.server.connections).toBeLessThanOrEqual(2);
  });

  test('break releases an unread streamed page: drained to its end, its socket reused', async () => {
    const c = client();
    for (let round = 0; round < ROUNDS; round++) {
      let body: { readableEnded: boolean } | null = null;
      for await (const page of c.pages('/bulky', { readBody: false, items: () => ['unread'] })) {
        expect(page.response.bodyRead).toBe(false);
        body = page.response.body;
        break;
      }
      // Drained, not destroyed: a body read to its end gives its connection back to the pool.
      expect(body?.readableEnded).toBe(true);
    }
    expect(paths()).toEqual(Array(ROUNDS).fill('/bulky'));
    expect(partner.server.connections).toBeLessThanOrEqual(2);
  });

  test("rejects with the signal's reason when aborted between items and during a page", async () => {
    const between = new AbortController();
    const reason = new Error('user left');
    const seenIds: number[] = [];
    const error = await (async () => {
      for await (const row of client().paginate<{ id: number }>('/repos', {
        signal: between.signal,
      })) {
        seenIds.push(row.id);
        between.abort(reason);
      }
    })().catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(seenIds).toEqual([1]);
    expect(partner.seen).toHaveLength(1);

    const during = new AbortController();
    const iterator = client().paginate<number>('/hang', { signal: during.signal });
    expect((await iterator.next()).value).toBe(1);
    expect((await iterator.next()).value).toBe(2);
    const pending = iterator.next();
    while (partner.seen.length < 3) await new Promise((resolve) => setImmediate(resolve));
    during.abort(reason);
    await expect(pending).rejects.toBe(reason);
    partner.release();
  });

  test('refuses a next link to another origin, and follows it with allowOtherOrigins without credentials', async () => {
    const c = client([], { headers: { authorization: 'Bearer s3cret', 'x-tenant': '7' } });
    const refused = await all(c.paginate('/away')).catch((e: unknown) => e);
    expect(isPaginationError(refused)).toBe(true);
    expect(String(refused)).toMatch(/another origin.*allowOtherOrigins/);
    expect(other.seen).toHaveLength(0);

    const rows = await all(c.paginate('/away', { allowOtherOrigins: true }));
    expect(rows).toEqual([{ id: 'here' }, { id: 'there' }]);
    expect(partner.seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer s3cret',
      'Bearer s3cret',
    ]);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]!.headers.authorization).toBeUndefined();
    expect(other.seen[0]!.headers['x-tenant']).toBe('7');
  });

  test('sends every page through the stack: retry() retries a 503 page, middleware count each', async () => {
    const perCall = counter('perCall');
    const perAttempt = counter('perAttempt');
    const c = client([perCall.mw, retry({ backoff: { baseMs: 1, maxMs: 5 } }), perAttempt.mw]);
    const rows = await all(c.paginate('/repos?flaky', { pathTemplate: '/repos' }));
    expect(rows).toEqual(ROWS);
    expect(perCall.count).toBe(3);
    expect(perAttempt.count).toBe(4);
    expect(paths()).toEqual([
      '/repos?flaky',
      '/repos?page=2&per_page=3&flaky',
      '/repos?page=2&per_page=3&flaky',
      '/repos?per_page=3&flaky&page=3',
    ]);
  });

  test('says what to pass when the body is not an array', async () => {
    const error = await all(client([expectStatus([200])]).paginate('/object')).catch(
      (e: unknown) => e,
    );
    expect(isPaginationError(error)).toBe(true);
    expect(String(error)).toMatch(/pass items: async \(res\) => \(await res\.json\(\)\)\.data/);
  });
});
