// client.paginate() and client.pages() on the mock transport: options, the query rule, next(),
// the origin rule and the errors. End to end over real servers: middleware/test/paginate.integration.test.ts.
import { createClient } from './client.js';
import { PaginationError } from './errors.js';
import { isConfigError, isHttpStatusError, isPaginationError } from './error-guards.js';
import { type MockStep, mockTransport } from './testing/index.js';

/** Every item of an async iterable. */
async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A list of `pages` pages of two items, `Link` headers built by `link(page)`. */
function linked(pages: number, link: (page: number) => string | undefined): MockStep {
  return (ctx) => {
    const page = Number(ctx.request.url.searchParams.get('page') ?? 1);
    const next = page < pages ? link(page + 1) : undefined;
    return {
      status: 200,
      headers: next ? { link: next } : ({} as Record<string, string>),
      body: [{ id: page * 10 + 1 }, { id: page * 10 + 2 }],
    };
  };
}

describe('client.paginate(): options', () => {
  const client = createClient([mockTransport()], { baseUrl: 'http://api.test/v1' });

  it('refuses an unknown option when called, naming it with a did-you-mean', () => {
    expect(() => client.paginate('/items', { maxPage: 3 } as never)).toThrow(
      /Invalid option maxPage \(unknown option of paginate\(\); did you mean maxPages\?\)/,
    );
    expect(() => client.paginate('/items', { params: { a: 1 } } as never)).toThrow(
      /did you mean query\?/,
    );
  });

  it('refuses bad values when called: maxPages, maxItems, items, a stream body, a bad URL', () => {
    const bad: [object, RegExp][] = [
      [{ maxPages: 0 }, /maxPages: 0/],
      [{ maxItems: 1.5 }, /maxItems: 1.5/],
      [{ items: [] }, /items: array\(0\)/],
      [{ next: 'link' }, /next: "link"/],
      [{ allowOtherOrigins: 'yes' }, /allowOtherOrigins/],
      [{ method: 'POST', body: (async function* () {})() }, /body.*a stream is sent once/],
      [{ query: 'a=1' }, /query: "a=1"/],
      [{ timeoutMs: -1 }, /timeoutMs: -1/],
      [{ signal: {} }, /signal/],
      [{ headers: { 'x-a': 'b\r\nc' } }, /headers\.x-a/],
      [{ json: {}, body: 'x' }, /give either json or body/],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        client.pages('/items', options as never);
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error)).toBe(true);
      expect(String(error)).toMatch(message);
    }
    expect(() => client.paginate('http://other.test/items')).toThrow(/another origin/);
  });
});

describe('client.paginate(): following Link', () => {
  it('follows relative and absolute next links to the last page, every item once', async () => {
    const transport = mockTransport([], {
      fallback: linked(3, (p) =>
        p === 2
          ? `</v1/items?page=2>; rel="next"`
          : `<http://api.test/v1/items?page=${p}>; rel=next`,
      ),
    });
    const client = createClient([transport], { baseUrl: 'http://api.test/v1' });
    const ids = await all(client.paginate<{ id: number }>('/items'));
    expect(ids.map((item) => item.id)).toEqual([11, 12, 21, 22, 31, 32]);
    expect(transport.requests.map((r) => r.url)).toEqual([
      'http://api.test/v1/items',
      'http://api.test/v1/items?page=2',
      'http://api.test/v1/items?page=3',
    ]);
  });

  it('adds the query option to the first page, and to a next link only when it has no query', async () => {
    const transport = mockTransport([
      { status: 200, headers: { link: '</v1/items?page=2>; rel=next' }, body: [1] },
      { status: 200, headers: { link: '</v1/items/page/3>; rel=next' }, body: [2] },
      { status: 200, body: [3] },
    ]);
    const client = createClient([transport], { baseUrl: 'http://api.test/v1' });
    expect(await all(client.paginate('/items', { query: { per_page: 1 } }))).toEqual([1, 2, 3]);
    expect(transport.requests.map((r) => r.url)).toEqual([
      'http://api.test/v1/items?per_page=1',
      'http://api.test/v1/items?page=2',
      'http://api.test/v1/items/page/3?per_page=1',
    ]);
  });

  it('carries the request options to every page', async () => {
    const transport = mockTransport([], { fallback: linked(2, (p) => `<?page=${p}>; rel=next`) });
    const client = createClient([transport], { baseUrl: 'http://api.test' });
    const pages = await all(
      client.pages('/items', {
        headers: { 'x-tenant': '7' },
        pathTemplate: '/items',
        meta: { job: 'sync' },
      }),
    );
    expect(pages.map((p) => p.page)).toEqual([1, 2]);
    for (const request of transport.requests) {
      expect(request.headers['x-tenant']).toBe('7');
      expect(request.ctx.meta).toEqual({ job: 'sync', pathTemplate: '/items' });
    }
  });

  it('stops at maxPages and cuts the items at maxItems, without asking for another page', async () => {
    const transport = mockTransport([], { fallback: linked(9, (p) => `<?page=${p}>; rel=next`) });
    const client = createClient([transport], { baseUrl: 'http://api.test' });
    expect(await all(client.paginate('/items', { maxPages: 2 }))).toHaveLength(4);
    expect(transport.requests).toHaveLength(2);
    const pages = await all(client.pages('/items', { maxItems: 3 }));
    expect(pages.map((p) => p.items.length)).toEqual([2, 1]);
    expect(transport.requests).toHaveLength(4);
  });

  it('refuses a next link on another origin, naming both origins', async () => {
    const transport = mockTransport([], {
      fallback: linked(2, () => '<http://evil.test/steal>; rel=next'),
    });
    const client = createClient([transport], { baseUrl: 'http://api.test' });
    const error = await all(client.paginate('/items')).catch((e: unknown) => e);
    expect(isPaginationError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_PAGINATION_ORIGIN', page: 1 });
    expect(String(error)).toMatch(/http:\/\/evil\.test, another origin than http:\/\/api\.test/);
    expect(transport.requests).toHaveLength(1);
  });

  it('allows another origin with allowOtherOrigins, without credentials', async () => {
    const transport = mockTransport([], {
      fallback: linked(2, () => '<http://other.test/items?page=2>; rel=next'),
    });
    const client = createClient([transport], {
      baseUrl: 'http://api.test',
      headers: { authorization: 'Bearer secret', cookie: 'sid=1', 'x-tenant': '7' },
    });
    expect(await all(client.paginate('/items', { allowOtherOrigins: true }))).toHaveLength(4);
    const [first, second] = transport.requests;
    expect(first?.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'sid=1' });
    expect(second?.url).toBe('http://other.test/items?page=2');
    expect(second?.headers.authorization).toBeUndefined();
    expect(second?.headers.cookie).toBeUndefined();
    expect(second?.headers['x-tenant']).toBe('7');
  });

  it('keeps userinfo of the first URL on its origin and never takes it from a link', async () => {
    const transport = mockTransport([
      { status: 200, headers: { link: '<http://mallory:pw@api.test/p2>; rel=next' }, body: [1] },
      { status: 200, body: [2] },
    ]);
    const client = createClient([transport]);
    await all(client.paginate('http://u:p@api.test/p1'));
    const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
    expect(transport.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['http://api.test/p1', basic],
      ['http://api.test/p2', basic],
    ]);
    const plain = mockTransport([
      { status: 200, headers: { link: '<http://mallory:pw@api.test/p2>; rel=next' }, body: [1] },
      { status: 200, body: [2] },
    ]);
    await all(createClient([plain]).paginate('http://api.test/p1'));
    expect(plain.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['http://api.test/p1', undefined],
      ['http://api.test/p2', undefined],
    ]);
  });

  it('refuses a next link to the page itself and one to another scheme', async () => {
    const self = createClient([
      mockTransport([], { fallback: { status: 200, headers: { link: '<>; rel=next' }, body: [] } }),
    ]);
    await expect(all(self.paginate('http://api.test/a'))).rejects.toMatchObject({
      code: 'ERR_PAGINATION_LOOP',
    });
    const scheme = createClient([
      mockTransport([], {
        fallback: { status: 200, headers: { link: '<file:///etc/passwd>; rel=next' }, body: [] },
      }),
    ]);
    const error = await all(
      scheme.paginate('http://api.test/a', { allowOtherOrigins: true }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaginationError);
    expect(String(error)).toMatch(/file: URL/);
  });
});

describe('client.paginate(): items and next()', () => {
  it('says what to pass when the body is not an array, naming its array field', async () => {
    const client = createClient([
      mockTransport([{ status: 200, body: { data: [1, 2], total: 2 } }]),
    ]);
    const error = await all(client.paginate('http://api.test/items')).catch((e: unknown) => e);
    expect(isPaginationError(error)).toBe(true);
    expect((error as PaginationError).code).toBe('ERR_PAGINATION_ITEMS');
    expect((error as Error).message).toMatch(
      /Page 1's JSON body is object, not an array: pass items: async \(res\) => \(await res\.json\(\)\)\.data/,
    );
  });

  it('refuses items() that returns no array, and a page that is not 2xx', async () => {
    const odd = createClient([mockTransport([{ status: 200, body: { a: 1 } }])]);
    await expect(
      all(odd.paginate('http://api.test/', { items: async () => 'x' as never })),
    ).rejects.toThrow(/items\(\) returned string for page 1/);
    const failing = createClient([mockTransport([{ status: 500, body: [] }])]);
    const error = await all(failing.paginate('http://api.test/')).catch((e: unknown) => e);
    expect(isHttpStatusError(error)).toBe(true);
  });

  it('merges the query next() returns over the call query (offset API)', async () => {
    const transport = mockTransport([], {
      fallback: (ctx) => {
        const offset = Number(ctx.request.url.searchParams.get('offset') ?? 0);
        return { status: 200, body: offset < 4 ? [offset, offset + 1] : [] };
      },
    });
    const client = createClient([transport], { baseUrl: 'http://api.test' });
    const seen: number[] = [];
    const items = await all(
      client.paginate<number>('/items?sort=id', {
        query: { limit: 2, offset: 0 },
        next: ({ items, itemCount, page, request }) => {
          seen.push(page);
          expect(request.url.searchParams.get('limit')).toBe('2');
          return items.length === 0 ? undefined : { query: { offset: itemCount } };
        },
      }),
    );
    expect(items).toEqual([0, 1, 2, 3]);
    expect(seen).toEqual([1, 2, 3]);
    expect(transport.requests.map((r) => r.url)).toEqual([
      'http://api.test/items?sort=id&limit=2&offset=0',
      'http://api.test/items?sort=id&limit=2&offset=2',
      'http://api.test/items?sort=id&limit=2&offset=4',
    ]);
  });

  it('refuses what next() returns when it is no URL, object or undefined', async () => {
    const client = createClient([mockTransport([], { fallback: { status: 200, body: [1] } })]);
    for (const next of [() => 'http://[::1', () => 42]) {
      const error = await all(client.paginate('http://api.test/', { next: next as never })).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        name: 'PaginationError',
        code: 'ERR_PAGINATION_NEXT',
        page: 1,
      });
    }
  });

  it('sends the json next() returns with every later page (a POST search API)', async () => {
    const transport = mockTransport([], {
      fallback: (ctx) => {
        const { cursor } = JSON.parse(String(ctx.request.body)) as { cursor?: string };
        return { status: 200, body: cursor ? { hits: ['b'] } : { hits: ['a'], next: 'c2' } };
      },
    });
    const client = createClient([transport]);
    const hits = await all(
      client.paginate<string>('http://api.test/search', {
        method: 'POST',
        json: { q: 'tea' },
        items: async (res) => (await res.json<{ hits: string[] }>()).hits,
        next: async ({ response, request }) => {
          const { next } = await response.json<{ next?: string }>();
          return next && { json: { ...(request.json as object), cursor: next } };
        },
      }),
    );
    expect(hits).toEqual(['a', 'b']);
    expect(transport.requests.map((r) => [r.method, r.body])).toEqual([
      ['POST', '{"q":"tea"}'],
      ['POST', '{"q":"tea","cursor":"c2"}'],
    ]);
  });
});

describe('client.paginate(): types', () => {
  it('yields Item from paginate<Item>() and Page<Item> from pages<Item>()', async () => {
    const client = createClient([
      mockTransport([], { fallback: { status: 200, body: [{ id: 1 }] } }),
    ]);
    for await (const item of client.paginate<{ id: number }>('http://api.test/')) {
      const id: number = item.id;
      // @ts-expect-error an item is not a string
      const wrong: string = item;
      expect([id, wrong]).toEqual([1, { id: 1 }]);
    }
    for await (const page of client.pages<{ id: number }>('http://api.test/')) {
      const ids: number[] = page.items.map((item) => item.id);
      expect([page.page, ids, page.response.status]).toEqual([1, [1], 200]);
    }
  });
});
