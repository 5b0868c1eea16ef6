import { Readable } from 'node:stream';
import { createClient, isConfigError, lintStack, middlewareInfo } from '@extapi/core';
import { type MockAnswer, mockTransport } from '@extapi/core/testing';
import { dedupe } from './dedupe.js';
import { retry } from './retry/index.js';

/** A mock transport whose answers wait for `open()`, so calls made together overlap. */
function gatedMock(answer: (url: string) => MockAnswer = () => ({ body: 'ok' })) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const transport = mockTransport([
    async (ctx) => {
      await gate;
      return answer(ctx.request.url.href);
    },
  ]);
  return { transport, open: () => open() };
}

describe('dedupe()', () => {
  test('returns a function named dedupe that declares itself once per call, outside cache', () => {
    const middleware = dedupe();
    expect(middleware.name).toBe('dedupe');
    const info = middlewareInfo(middleware);
    expect(info?.name).toBe('dedupe');
    expect(info?.placement.per).toBe('call');
    expect(info?.placement.outside).toEqual(['cache']);
  });

  test('the stack check warns when it sits inside retry()', () => {
    const { transport } = gatedMock();
    const warnings = lintStack([retry(), dedupe(), transport]);
    expect(warnings.map((w) => w.rule)).toEqual(['inside-retry']);
    expect(lintStack([dedupe(), retry(), transport])).toEqual([]);
  });

  test.each([
    [{ key: 'url' }, 'key'],
    [{ keys: () => 'x' }, 'keys'],
    ['fast', 'options'],
  ])('refuses bad options %p with a ConfigError naming %s', (options, name) => {
    const error = (() => {
      try {
        dedupe(options as never);
      } catch (e) {
        return e;
      }
    })();
    expect(isConfigError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(name);
  });

  test('suggests the known name for a misspelt option', () => {
    expect(() => dedupe({ kee: () => 'x' } as never)).toThrow(/did you mean key\?/);
  });

  test("a user's key decides what is identical, and credentials still keep calls apart", async () => {
    const { transport, open } = gatedMock();
    // The key ignores the query (a cache-buster the partner does not read).
    const client = createClient([dedupe({ key: (ctx) => ctx.request.url.pathname }), transport]);
    const calls = [
      client.get('http://api.test/a?t=1'),
      client.get('http://api.test/a?t=2'),
      client.get('http://api.test/a', { headers: { authorization: 'Bearer alice' } }),
      client.get('http://api.test/a', { headers: { authorization: 'Bearer alice' } }),
      client.get('http://api.test/a', { headers: { authorization: 'Bearer bob' } }),
      client.get('http://api.test/a', { headers: { 'x-api-key': 'k1' } }),
    ];
    open();
    await Promise.all(calls);
    expect(transport.requests.map((r) => r.url)).toEqual([
      'http://api.test/a?t=1',
      'http://api.test/a',
      'http://api.test/a',
      'http://api.test/a',
    ]);
    expect(
      transport.requests.map((r) => r.headers.authorization ?? r.headers['x-api-key']),
    ).toEqual([undefined, 'Bearer alice', 'Bearer bob', 'k1']);
  });

  test('a key of undefined sends the call on its own', async () => {
    const { transport, open } = gatedMock();
    const client = createClient([
      dedupe({ key: (ctx) => (ctx.request.url.pathname === '/live' ? undefined : 'same') }),
      transport,
    ]);
    const calls = [client.get('http://api.test/live'), client.get('http://api.test/live')];
    open();
    await Promise.all(calls);
    expect(transport.requests).toHaveLength(2);
  });

  test('a call with onDownloadProgress is not shared', async () => {
    const { transport, open } = gatedMock();
    const client = createClient([dedupe(), transport]);
    const onDownloadProgress = () => {};
    const calls = [
      client.get('http://api.test/p', { onDownloadProgress }),
      client.get('http://api.test/p'),
      client.get('http://api.test/p'),
    ];
    open();
    await Promise.all(calls);
    expect(transport.requests).toHaveLength(2);
  });

  test('reads an unread body handed back from below once, and gives each caller a copy', async () => {
    const { transport, open } = gatedMock(() => ({
      body: Readable.from([Buffer.from('streamed')]),
    }));
    const client = createClient([dedupe(), transport]);
    const calls = [client.get('http://api.test/s'), client.get('http://api.test/s')];
    open();
    const responses = await Promise.all(calls);
    for (const res of responses) expect(await res.text()).toBe('streamed');
    expect(transport.requests).toHaveLength(1);
  });

  test('a lone caller gets the response of its request itself', async () => {
    const { transport, open } = gatedMock();
    let seen: unknown;
    const client = createClient([
      dedupe(),
      async (ctx, next) => {
        seen = await next(ctx);
        return seen as never;
      },
      transport,
    ]);
    open();
    expect(await client.get('http://api.test/one')).toBe(seen);
  });
});
