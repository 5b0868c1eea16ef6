// A call's URL kept as text: what the transport sends, what a middleware reads and writes, and what
// a clone starts from must be as if the client had parsed it.
import { createClient } from './client.js';
import { requestUrl } from './context.js';
import { mockTransport } from './testing/index.js';
import type { Context, Middleware } from './types.js';

/** A middleware that runs `look` on each pass it sees. */
const peek =
  (look: (ctx: Context) => void): Middleware =>
  (ctx, next) => {
    look(ctx);
    return next(ctx);
  };

describe('a call whose URL the client keeps as text', () => {
  it('sends and answers with the same URL a parsed one gives, and parses it for a reader of url', async () => {
    const seen: { text: ReturnType<typeof requestUrl>; url: string }[] = [];
    const transport = mockTransport();
    const client = createClient([
      peek((ctx) => seen.push({ text: requestUrl(ctx.request), url: ctx.request.url.href })),
      transport,
    ]);
    const response = await client.get('http://127.0.0.1:8080/items/42?page=2');
    expect(response.url).toBe('http://127.0.0.1:8080/items/42?page=2');
    expect(transport.requests[0]!.url).toBe('http://127.0.0.1:8080/items/42?page=2');
    expect(seen).toEqual([
      {
        text: {
          href: 'http://127.0.0.1:8080/items/42?page=2',
          origin: 'http://127.0.0.1:8080',
          path: '/items/42?page=2',
        },
        url: 'http://127.0.0.1:8080/items/42?page=2',
      },
    ]);
  });

  it('sends what a middleware wrote to the URL object it read', async () => {
    const transport = mockTransport();
    const client = createClient([
      peek((ctx) => ctx.request.url.searchParams.set('sig', 'abc')),
      peek((ctx) => {
        ctx.request.url.pathname = '/v2/items';
      }),
      transport,
    ]);
    const response = await client.get('https://api.example/v1/items');
    expect(transport.requests[0]!.url).toBe('https://api.example/v2/items?sig=abc');
    expect(response.url).toBe('https://api.example/v2/items?sig=abc');
  });

  it('gives each clone its own URL, made from its parent as it is at the clone', async () => {
    const transport = mockTransport();
    let parent: Context | undefined;
    const client = createClient([
      (ctx, next) => {
        parent = ctx;
        const first = ctx.clone();
        first.request.url.searchParams.set('attempt', '1');
        return next(first).then(() => {
          ctx.request.url.searchParams.set('outer', 'yes');
          return next(ctx.clone());
        });
      },
      transport,
    ]);
    await client.get('https://api.example/items');
    expect(transport.requests.map((r) => r.url)).toEqual([
      'https://api.example/items?attempt=1',
      'https://api.example/items?outer=yes',
    ]);
    expect(parent!.request.url.href).toBe('https://api.example/items?outer=yes');
  });

  it('joins a plain path onto baseUrl as the parser does, and parses every other input', async () => {
    const transport = mockTransport();
    const client = createClient([transport], { baseUrl: 'https://api.example/v1/' });
    for (const path of [
      '/items/1',
      'items/2',
      '/items/3?x=1',
      '/a/../b',
      '/../admin',
      '//evil.example/x',
    ]) {
      await client
        .get(path)
        .catch((error: Error) => transport.requests.push({ url: error.name } as never));
    }
    expect(transport.requests.map((r) => r.url)).toEqual([
      'https://api.example/v1/items/1',
      'https://api.example/v1/items/2',
      'https://api.example/v1/items/3?x=1',
      'https://api.example/v1/b', // dot segments: parsed
      'ConfigError', // leaves the base's path
      'ConfigError', // another origin
    ]);
  });
});
