import { getEventListeners } from 'node:events';
import { Readable } from 'node:stream';
import { createClient } from './client.js';
import type { ClientOptions } from './client-options.js';
import type { RequestOptions } from './request.js';
import { markSensitiveHeader } from './context.js';
import { defineMiddleware } from './middleware-info.js';
import { ConfigError, type ExtapiError, TimeoutError, TooManyRedirectsError } from './errors.js';
import {
  isConfigError,
  isExtapiError,
  isTimeoutError,
  isTooManyRedirectsError,
} from './error-guards.js';
import { createResponse, type ResponseInit } from './response.js';
import { NEVER_ABORT } from './signal.js';
import { mockTransport } from './testing/index.js';
import type { Context, Middleware, Next } from './types.js';

describe('createClient: the stack', () => {
  it('refuses a stack without a transport, naming both backends', () => {
    const noop: Middleware = (_ctx, next) => next();
    expect(() => createClient([noop])).toThrow(ConfigError);
    expect(() => createClient([noop])).toThrow(/undiciTransport\(\).*fetchTransport\(\)/);
    expect(() => createClient([])).toThrow(/last element must be a transport/);
  });

  it('refuses a transport that is not last', () => {
    const noop: Middleware = (_ctx, next) => next();
    expect(() => createClient([mockTransport(), noop, mockTransport()])).toThrow(
      /stack\[0\].*must be the last/,
    );
  });

  it('refuses an element that is not a function', () => {
    expect(() => createClient(['retry' as unknown as Middleware, mockTransport()])).toThrow(
      /Invalid option stack\[0\]: "retry"/,
    );
  });

  it('describes the pipeline by declared name, outside-in', () => {
    const client = createClient([
      defineMiddleware(async (_c, n) => n(), { name: 'retry' }),
      async function undeclared(_c, n) {
        return n();
      },
      mockTransport(),
    ]);
    expect(client.describe()).toEqual(['retry', 'anonymous', 'mockTransport']);
  });

  it('exposes the transport and closes it', async () => {
    const transport = mockTransport();
    const close = jest.spyOn(transport, 'close');
    const client = createClient([transport]);
    expect(client.transport).toBe(transport);
    await client.close();
    await client[Symbol.asyncDispose]();
    expect(close).toHaveBeenCalledTimes(2);
  });
});

describe('createClient: options are validated at creation', () => {
  it.each([
    ['baseUrl', { baseUrl: 'not a url' }, /baseUrl: "not a url"/],
    ['baseUrl scheme', { baseUrl: 'ftp://x/' }, /baseUrl: "ftp:\/\/x\/"/],
    ['timeoutMs negative', { timeoutMs: -1 }, /timeoutMs: -1/],
    ['timeoutMs infinite', { timeoutMs: Number.POSITIVE_INFINITY }, /timeoutMs: Infinity/],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }, /timeoutMs: NaN/],
    ['redirect', { redirect: 'sometimes' }, /redirect: "sometimes"/],
    ['maxRedirects', { maxRedirects: 1.5 }, /maxRedirects: 1.5/],
    ['headers', { headers: { 'x-a': 'a\r\nb' } }, /Invalid option headers/],
  ])('throws ConfigError for a bad %s', (_name, options, message) => {
    expect(() => createClient([mockTransport()], options as never)).toThrow(ConfigError);
    expect(() => createClient([mockTransport()], options as never)).toThrow(message);
  });
});

describe('createClient: requests', () => {
  const setup = (options = {}, middleware: Middleware[] = []) => {
    const transport = mockTransport([{ status: 200, body: 'ok' }]);
    return { transport, client: createClient([...middleware, transport], options) };
  };

  it('appends relative URLs to baseUrl, keeping its path', async () => {
    const { transport, client } = setup({ baseUrl: 'https://api.test/v1/' });
    await client.get('/items/1');
    await client.get('items/2');
    await client.get('');
    expect(transport.requests.map((r) => r.url)).toEqual([
      'https://api.test/v1/items/1',
      'https://api.test/v1/items/2',
      'https://api.test/v1',
    ]);
  });

  it('refuses absolute and protocol-relative URLs to another origin than baseUrl', async () => {
    const { transport, client } = setup({ baseUrl: 'https://api.test/v1' });
    await expect(client.get('https://evil.test/x')).rejects.toThrow(/another origin than baseUrl/);
    await expect(client.get('//evil.test/x')).rejects.toThrow(ConfigError);
    await expect(client.get(new URL('http://api.test/v1'))).rejects.toThrow(ConfigError);
    await client.get('https://api.test/other');
    expect(transport.requests.map((r) => r.url)).toEqual(['https://api.test/other']);
  });

  it('allows absolute URLs to other origins with allowAbsoluteUrls', async () => {
    const { transport, client } = setup({
      baseUrl: 'https://api.test/v1',
      allowAbsoluteUrls: true,
    });
    await client.get('https://cdn.test/file');
    expect(transport.requests[0]!.url).toBe('https://cdn.test/file');
  });

  it('refuses URLs that are not http or https', async () => {
    const { client } = setup();
    await expect(client.get('file:///etc/passwd')).rejects.toThrow(/only http: and https:/);
    await expect(client.get('data:text/plain,hi')).rejects.toThrow(ConfigError);
    await expect(client.get('not a url')).rejects.toThrow(/Invalid option url/);
  });

  it('encodes query parameters: arrays repeat the key, undefined is dropped', async () => {
    const { transport, client } = setup();
    await client.get('http://api.test/s?x=1', {
      query: { q: 'a b&c', tag: ['x', 'y'], skip: undefined, n: 0, on: true, empty: null },
    });
    expect(transport.requests[0]!.url).toBe(
      'http://api.test/s?x=1&q=a+b%26c&tag=x&tag=y&n=0&on=true&empty=',
    );
  });

  it('serialises json and sets content-type unless given', async () => {
    const { transport, client } = setup();
    await client.post('http://api.test/', { json: { a: 1 } });
    await client.post('http://api.test/', {
      json: [1],
      headers: { 'content-type': 'application/vnd.x+json' },
    });
    expect(transport.requests[0]!.body).toBe('{"a":1}');
    expect(transport.requests[0]!.headers['content-type']).toBe('application/json');
    expect(transport.requests[1]!.headers['content-type']).toBe('application/vnd.x+json');
  });

  it('refuses json together with body', async () => {
    const { client } = setup();
    await expect(client.post('http://api.test/', { json: {}, body: 'x' })).rejects.toThrow(
      /either json or body/,
    );
  });

  it('encodes URLSearchParams bodies as a form', async () => {
    const { transport, client } = setup();
    await client.post('http://api.test/', { body: new URLSearchParams({ a: '1 2' }) });
    expect(transport.requests[0]!.body).toBe('a=1+2');
    expect(transport.requests[0]!.headers['content-type']).toMatch(
      /^application\/x-www-form-urlencoded/,
    );
  });

  it('passes every other body type through', async () => {
    const { transport, client } = setup();
    const bodies = [
      'text',
      new Uint8Array([1, 2]),
      new Blob(['b']),
      new FormData(),
      Readable.from(['s']),
      new ReadableStream(),
      (async function* () {
        yield new Uint8Array([1]);
      })(),
    ];
    for (const body of bodies) await client.post('http://api.test/', { body });
    expect(transport.requests.map((r) => r.body)).toEqual(bodies);
  });

  it('refuses a body of an unknown type', async () => {
    const { client } = setup();
    await expect(client.post('http://api.test/', { body: 42 as never })).rejects.toThrow(
      /Invalid option body/,
    );
  });

  it('merges headers over the defaults, and null removes a default', async () => {
    const { transport, client } = setup({ headers: { 'x-app': 'a', 'x-env': 'prod' } });
    await client.get('http://api.test/', { headers: { 'x-app': 'b', 'x-env': null } });
    expect(transport.requests[0]!.headers).toEqual({ 'x-app': 'b' });
  });

  it('sends the default headers uncopied, and a write to one call’s headers reaches no other call', async () => {
    const { transport, client } = setup({ headers: { 'x-app': 'a' } }, [
      (ctx, next) => {
        // Before the write, the request reads the client's headers; the write makes its own copy.
        expect(ctx.request.headers.get('x-app')).toBe('a');
        if (ctx.meta.mark) ctx.request.headers.set('x-mark', String(ctx.meta.mark));
        ctx.request.headers.delete('x-app');
        return next();
      },
    ]);
    await client.get('http://api.test/one', { meta: { mark: 1 } });
    await client.get('http://api.test/two');
    await client.post('http://api.test/three', { json: {} });
    expect(transport.requests.map((r) => r.headers)).toEqual([
      { 'x-mark': '1' },
      {},
      { 'content-type': 'application/json' },
    ]);
    // The defaults themselves are untouched: a call without middleware still sends them.
    const plain = setup({ headers: { 'x-app': 'a' } });
    await plain.client.get('http://api.test/');
    expect(plain.transport.requests[0]!.headers).toEqual({ 'x-app': 'a' });
  });

  it('refuses CR, LF or NUL in a header name or value', async () => {
    const { transport, client } = setup();
    await expect(
      client.get('http://api.test/', { headers: { 'x-a': 'v\r\nx-injected: 1' } }),
    ).rejects.toThrow(ConfigError);
    await expect(client.get('http://api.test/', { headers: { 'x\na': 'v' } })).rejects.toThrow(
      ConfigError,
    );
    await expect(client.get('http://api.test/', { headers: [['x-a', 'a\0b']] })).rejects.toThrow(
      ConfigError,
    );
    expect(transport.requests).toHaveLength(0);
  });

  it('refuses control characters in a URL instead of letting the URL parser drop them', async () => {
    const { transport, client } = setup();
    for (const url of ['http://api.test/a\r\nx: 1', 'http://api.test/a\0', 'http://api.test/\ta']) {
      await expect(client.get(url)).rejects.toThrow(/control characters/);
    }
    expect(() => createClient([transport], { baseUrl: 'http://api.test/v1\n' })).toThrow(/baseUrl/);
    expect(transport.requests).toHaveLength(0);
  });

  it('keeps a credential header value and URL secrets out of ConfigError messages', async () => {
    const { client } = setup({ baseUrl: 'http://api.test' });
    const header = await client
      .get('/', { headers: { 'x-api-key': 'k-secret\r\nx: 1' } })
      .catch((e: Error) => e);
    expect(String(header)).not.toContain('k-secret');
    expect((header as Error).cause).toBeUndefined();
    const url = await client
      .get('http://user:p-secret@other.test/?sig=s-secret')
      .catch((e: Error) => e);
    expect(String(url)).not.toMatch(/p-secret|s-secret/);
  });

  it('sends URL userinfo as Basic auth, never in the URL, unless Authorization is set', async () => {
    const { transport, client } = setup();
    await client.get('http://us%20er:p%40ss@api.test/x');
    await client.get('http://user:pass@api.test/y', { headers: { authorization: 'Bearer t' } });
    expect(transport.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['http://api.test/x', `Basic ${Buffer.from('us er:p@ss').toString('base64')}`],
      ['http://api.test/y', 'Bearer t'],
    ]);
  });

  it('refuses content-length or host headers that conflict with the body or URL', async () => {
    const { transport, client } = setup();
    await expect(
      client.post('http://api.test/', { body: 'abc', headers: { 'content-length': '5' } }),
    ).rejects.toThrow(/content-length/);
    await expect(
      client.post('http://api.test/', {
        body: 'abc',
        headers: [
          ['content-length', '3'],
          ['Content-Length', '3'],
        ],
      }),
    ).rejects.toThrow(/content-length/);
    await expect(
      client.get('http://api.test/', { headers: { host: 'other.test' } }),
    ).rejects.toThrow(/headers.host/);
    await client.post('http://api.test/', {
      body: 'abc',
      headers: { 'content-length': '3', host: 'api.test' },
    });
    expect(transport.requests).toHaveLength(1);
  });

  it('checks framing headers wherever they come from: the client, the call or a middleware', async () => {
    // The client's own headers are checked on every call when they hold one (the body varies).
    const framed = setup({ headers: { 'content-length': '3' } });
    await framed.client.post('http://api.test/', { body: 'abc' });
    await expect(framed.client.post('http://api.test/', { body: 'abcd' })).rejects.toThrow(
      /content-length/,
    );
    await expect(
      setup({ headers: { host: 'other.test' } }).client.get('http://api.test/'),
    ).rejects.toThrow(/headers.host/);
    // A middleware that writes one, on a client whose own headers hold none.
    const lying: Middleware = (ctx, next) => {
      ctx.request.headers.set('host', 'other.test');
      return next();
    };
    const { transport, client } = setup({ headers: { 'x-app': 'a' } }, [lying]);
    await expect(client.get('http://api.test/')).rejects.toThrow(/headers.host/);
    expect(transport.requests).toHaveLength(0);
  });

  it('validates and upper-cases the method', async () => {
    const { transport, client } = setup();
    await client.request('http://api.test/', { method: 'patch' });
    expect(transport.requests[0]!.method).toBe('PATCH');
    await expect(
      client.request('http://api.test/', { method: 'GET /x HTTP/1.1\r\n' }),
    ).rejects.toThrow(/Invalid option method/);
  });

  it('has a method for each verb', async () => {
    const { transport, client } = setup();
    for (const verb of ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const) {
      await client[verb]('http://api.test/');
    }
    expect(transport.requests.map((r) => r.method)).toEqual([
      'GET',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'HEAD',
      'OPTIONS',
    ]);
  });

  it('puts pathTemplate and meta on the context, and a fresh state map per call', async () => {
    const { transport, client } = setup();
    await client.get('http://api.test/items/1', {
      pathTemplate: '/items/:id',
      meta: { tenant: 't1' },
    });
    await client.get('http://api.test/items/2');
    const [first, second] = transport.requests.map((r) => r.ctx);
    expect(first!.meta).toEqual({ tenant: 't1', pathTemplate: '/items/:id' });
    expect(first!.state).not.toBe(second!.state);
    expect(first!.readBody).toBe(true);
  });

  it('reads options from own properties only, so a polluted prototype injects nothing', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.baseUrl = 'http://evil.test';
    proto.headers = { 'x-injected': '1' };
    try {
      const { transport, client } = setup();
      await client.get('http://api.test/');
      expect(transport.requests[0]!.url).toBe('http://api.test/');
      expect(transport.requests[0]!.headers).toEqual({});
    } finally {
      delete proto.baseUrl;
      delete proto.headers;
    }
  });

  it('extends into a new client with merged options, leaving the original unchanged', async () => {
    const { transport, client } = setup({ baseUrl: 'http://a.test', headers: { 'x-a': '1' } });
    const derived = client.extend({ baseUrl: 'http://b.test' });
    await derived.get('/x');
    await client.get('/x');
    expect(transport.requests.map((r) => [r.url, r.headers['x-a']])).toEqual([
      ['http://b.test/x', '1'],
      ['http://a.test/x', '1'],
    ]);
  });
});

describe('createClient: deadlines and aborts', () => {
  it('rejects with TimeoutError naming the deadline when timeoutMs passes', async () => {
    // Fake timers: the 10 s answer comes only if the test moves the clock that far, which it never
    // does, so the call must settle at the 20 ms deadline however slow the machine is.
    jest.useFakeTimers();
    try {
      const client = createClient([mockTransport([{ status: 200, delayMs: 10_000 }])], {
        timeoutMs: 20,
      });
      let error: unknown;
      const call = client.get('http://api.test/').catch((e: unknown) => {
        error = e;
      });
      await jest.advanceTimersByTimeAsync(19);
      expect(error).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await call;
      expect(isTimeoutError(error)).toBe(true);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).message).toMatch(/20 ms/);
    } finally {
      jest.useRealTimers();
    }
  });

  it('lets a request override the client timeout, and 0 disables it', async () => {
    const client = createClient([mockTransport([{ status: 200, delayMs: 40 }])], { timeoutMs: 10 });
    await expect(client.get('http://api.test/', { timeoutMs: 0 })).resolves.toHaveProperty(
      'status',
      200,
    );
    await expect(client.get('http://api.test/', { timeoutMs: -5 })).rejects.toThrow(
      /timeoutMs: -5/,
    );
  });

  it('rejects at once with the reason of an already aborted signal, sending nothing', async () => {
    const transport = mockTransport();
    const client = createClient([transport]);
    const reason = new Error('caller gave up');
    await expect(
      client.get('http://api.test/', { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(transport.requests).toHaveLength(0);
  });

  it('rejects with the signal reason when aborted during the call, and removes its listener', async () => {
    const client = createClient([mockTransport([{ status: 200, delayMs: 1_000 }])]);
    const controller = new AbortController();
    const reason = new Error('stop');
    const add = jest.spyOn(controller.signal, 'addEventListener');
    setTimeout(() => controller.abort(reason), 10);
    await expect(client.get('http://api.test/', { signal: controller.signal })).rejects.toBe(
      reason,
    );
    expect(add).toHaveBeenCalled();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('follows a signal shared by many calls through one listener, and aborts them all', async () => {
    const client = createClient([mockTransport([], { fallback: { status: 200, delayMs: 1_000 } })]);
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const calls = Array.from({ length: 30 }, () =>
        client.get('http://api.test/', { signal: controller.signal }),
      );
      // An AbortSignal warns of a leak past 10 listeners: the 30 calls hold one.
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      const reason = new Error('shutdown');
      controller.abort(reason);
      for (const call of calls) await expect(call).rejects.toBe(reason);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('lets go of a shared signal once the last call following it settles', async () => {
    const client = createClient([mockTransport([], { fallback: { status: 200 } })]);
    const controller = new AbortController();
    await Promise.all(
      Array.from({ length: 5 }, () =>
        client.get('http://api.test/', { signal: controller.signal }),
      ),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('does not collect listeners on a long-lived signal across calls', async () => {
    const client = createClient([mockTransport([{ status: 200 }])]);
    const controller = new AbortController();
    const add = jest.spyOn(controller.signal, 'addEventListener');
    const remove = jest.spyOn(controller.signal, 'removeEventListener');
    for (let i = 0; i < 5; i++) await client.get('http://api.test/', { signal: controller.signal });
    expect(add).toHaveBeenCalledTimes(5);
    expect(remove).toHaveBeenCalledTimes(5);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('createClient: redirects', () => {
  const redirect = (status: number, location: string) => ({ status, headers: { location } });

  it('follows a relative redirect and reports the final URL', async () => {
    const transport = mockTransport([redirect(302, '/b'), { status: 200, body: 'done' }]);
    const res = await createClient([transport]).get('http://api.test/a');
    expect(res.status).toBe(200);
    expect(res.url).toBe('http://api.test/b');
    expect(await res.text()).toBe('done');
  });

  it.each([
    [301, 'POST', 'GET', undefined],
    [302, 'POST', 'GET', undefined],
    [303, 'PUT', 'GET', undefined],
    [303, 'HEAD', 'HEAD', undefined],
    [307, 'POST', 'POST', 'payload'],
    [308, 'PUT', 'PUT', 'payload'],
    [301, 'PUT', 'PUT', 'payload'],
  ])('%i after %s continues as %s', async (status, method, nextMethod, nextBody) => {
    const transport = mockTransport([redirect(status, '/next'), { status: 200 }]);
    await createClient([transport]).request('http://api.test/', {
      method,
      body: 'payload',
      headers: { 'content-type': 'text/plain' },
    });
    const hop = transport.requests[1]!;
    expect([hop.method, hop.body]).toEqual([nextMethod, nextBody]);
    expect(hop.headers['content-type']).toBe(nextBody === undefined ? undefined : 'text/plain');
  });

  it('refuses to follow a 307 with a stream body', async () => {
    const transport = mockTransport([redirect(307, '/next'), { status: 200 }]);
    const client = createClient([transport]);
    await expect(client.post('http://api.test/', { body: Readable.from(['x']) })).rejects.toThrow(
      /stream body/,
    );
  });

  it('keeps credentials on the same origin and drops every one on another origin', async () => {
    const transport = mockTransport([
      redirect(302, '/same'),
      redirect(302, 'http://other.test:8080/x'),
      { status: 200 },
    ]);
    const markPartnerKey: Middleware = (ctx, next) => {
      ctx.request.headers.set('x-partner-key', 'k');
      markSensitiveHeader(ctx, 'x-partner-key');
      return next();
    };
    const client = createClient([markPartnerKey, transport], {
      headers: {
        authorization: 'Bearer s3cret',
        'proxy-authorization': 'Basic p',
        cookie: 'sid=1',
        'x-api-key': 'key',
        'x-custom-secret': 'c',
        accept: 'application/json',
      },
      sensitiveHeaders: ['x-custom-secret', 'x-api-key'],
    });
    await client.get('http://api.test/start');
    const [first, same, other] = transport.requests;
    expect(same!.headers).toEqual(first!.headers);
    expect(other!.headers).toEqual({ accept: 'application/json' });
  });

  it('treats https to http on the same host as another origin', async () => {
    const transport = mockTransport([redirect(301, 'http://api.test/x'), { status: 200 }]);
    await createClient([transport], { headers: { authorization: 'Bearer t' } }).get(
      'https://api.test/',
    );
    expect(transport.requests[1]!.headers.authorization).toBeUndefined();
  });

  it('never turns userinfo in a Location into credentials', async () => {
    const transport = mockTransport([
      redirect(302, 'http://user:pass@api.test/x'),
      { status: 200 },
    ]);
    await createClient([transport]).get('http://api.test/');
    expect(transport.requests[1]!.url).toBe('http://api.test/x');
    expect(transport.requests[1]!.headers.authorization).toBeUndefined();
  });

  it('strips credentials when a middleware rewrites the URL to another origin', async () => {
    const transport = mockTransport([{ status: 200 }]);
    const rewrite: Middleware = (ctx, next) =>
      next(ctx.clone({ request: { url: new URL('http://elsewhere.test/') } }));
    await createClient([rewrite, transport], { headers: { authorization: 'Bearer t' } }).get(
      'http://api.test/',
    );
    expect(transport.requests[0]!.headers.authorization).toBeUndefined();
  });

  it.each(['file:///etc/passwd', 'data:text/plain,x', 'unix:/var/run/docker.sock'])(
    'refuses a redirect to %s',
    async (location) => {
      const transport = mockTransport([redirect(302, location), { status: 200 }]);
      await expect(createClient([transport]).get('http://api.test/')).rejects.toThrow(
        /Refusing redirect/,
      );
      expect(transport.requests).toHaveLength(1);
    },
  );

  it('fails with TooManyRedirectsError past maxRedirects (a loop A -> B -> A)', async () => {
    const transport = mockTransport([redirect(302, '/b'), redirect(302, '/a')]);
    const error = await createClient([transport], { maxRedirects: 3 })
      .get('http://api.test/a')
      .catch((e) => e);
    expect(isTooManyRedirectsError(error)).toBe(true);
    expect(error).toBeInstanceOf(TooManyRedirectsError);
    expect(transport.requests).toHaveLength(4);
  });

  it("hands redirects back with redirect: 'manual' and fails on them with 'error'", async () => {
    const transport = mockTransport([redirect(302, '/b')]);
    const client = createClient([transport]);
    const res = await client.get('http://api.test/a', { redirect: 'manual' });
    expect(res.status).toBe(302);
    await expect(client.get('http://api.test/a', { redirect: 'error' })).rejects.toThrow(
      /refused by redirect: 'error'/,
    );
  });

  it('returns a redirect without a Location as it is', async () => {
    const transport = mockTransport([{ status: 301 }]);
    expect((await createClient([transport]).get('http://api.test/')).status).toBe(301);
  });
});

describe('ConfigError', () => {
  it('is recognised by its guard and names option and value', () => {
    const error = new ConfigError('retry.maxAttempts', 0, 'expected an integer >= 1');
    expect(isConfigError(error)).toBe(true);
    expect(error.option).toBe('retry.maxAttempts');
    expect(error.message).toBe('Invalid option retry.maxAttempts: 0 (expected an integer >= 1)');
  });
});

describe('createClient: calls nothing can abort', () => {
  it('share NEVER_ABORT as their signal, where listeners never accumulate', async () => {
    const transport = mockTransport([{ status: 200 }]);
    const client = createClient([transport]);
    await Promise.all(Array.from({ length: 20 }, () => client.get('http://api.test/')));
    const signal = transport.requests[0]!.ctx.signal;
    expect(signal).toBe(NEVER_ABORT);
    expect(signal.aborted).toBe(false);
    const listener = jest.fn();
    signal.addEventListener('abort', listener);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('get a real signal as soon as a caller signal or a deadline is given', async () => {
    const transport = mockTransport([{ status: 200 }]);
    const client = createClient([transport]);
    await client.get('http://api.test/', { timeoutMs: 1_000 });
    await client.get('http://api.test/', { signal: new AbortController().signal });
    expect(transport.requests.map((r) => r.ctx.signal === NEVER_ABORT)).toEqual([false, false]);
  });
});

describe('createClient: mistakes plain-JavaScript users make', () => {
  const transport = () => mockTransport([{ status: 200 }]);

  it.each([
    [{ baseURL: 'http://api.test' }, 'baseURL', 'baseUrl'],
    [{ timeout: 100 }, 'timeout', 'timeoutMs'],
    [{ readbody: true }, 'readbody', 'readBody'],
  ])('refuses the unknown client option %j, suggesting the known one', (options, key, hint) => {
    const make = () => createClient([transport()], options as ClientOptions);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(new RegExp(`option ${key} .*did you mean ${hint}\\?`));
  });

  it.each([
    [{ params: { a: 1 } }, 'params', 'query'],
    [{ timeout: 100 }, 'timeout', 'timeoutMs'],
    [{ searchParams: { a: 1 } }, 'searchParams', 'query'],
    [{ maxRedirect: 1 }, 'maxRedirect', 'maxRedirects'],
  ])(
    'rejects a call with the unknown option %j, suggesting the known one',
    async (options, key, hint) => {
      const client = createClient([transport()]);
      const call = client.get('http://api.test/', options as RequestOptions);
      await expect(call).rejects.toThrow(ConfigError);
      await expect(client.get('http://api.test/', options as RequestOptions)).rejects.toThrow(
        new RegExp(`option ${key} .*did you mean ${hint}\\?`),
      );
    },
  );

  it('keeps meta free-form', async () => {
    const t = transport();
    const client = createClient([t]);
    await client.get('http://api.test/', { meta: { anything: 1, tenant: 'x' } });
    expect(t.requests[0]!.ctx.meta).toEqual({ anything: 1, tenant: 'x' });
  });

  it.each([
    ['allowAbsoluteUrls', 'false'],
    ['allowAbsoluteUrls', 1],
    ['allowAbsoluteUrls', {}],
    ['readBody', 'no'],
    ['logger', {}],
    ['logger', 'console'],
    ['sensitiveHeaders', 'x-key'],
    ['timeoutMs', 2_147_483_648],
    ['timeoutMs', -1],
    ['maxRedirects', 1.5],
    ['redirect', 'follow-all'],
  ])('checks the type of the client option %s (refuses %j)', (name, value) => {
    expect(() => createClient([transport()], { [name]: value } as ClientOptions)).toThrow(
      new RegExp(`Invalid option ${name}`),
    );
  });

  it('does not let allowAbsoluteUrls: "false" send a call to another origin', async () => {
    expect(() =>
      createClient([transport()], {
        baseUrl: 'http://api.test',
        allowAbsoluteUrls: 'false' as unknown as boolean,
      }),
    ).toThrow(ConfigError);
  });

  it.each([
    ['timeoutMs', 2_147_483_648, /from 0 to 2147483647 ms/],
    ['timeoutMs', Number.POSITIVE_INFINITY, /timeoutMs/],
    ['method', 5, /method: 5/],
    ['method', 'ſet', /HTTP method token/],
    ['signal', {}, /signal.*AbortSignal/],
    ['onUploadProgress', 'yes', /onUploadProgress.*function/],
    ['onDownloadProgress', {}, /onDownloadProgress.*function/],
    ['readBody', 'false', /readBody.*true or false/],
    ['maxResponseBytes', -1, /maxResponseBytes/],
    ['pathTemplate', 5, /pathTemplate/],
    ['meta', 'x', /meta/],
  ])(
    'rejects the call option %s = %p with a ConfigError before sending',
    async (name, value, message) => {
      const t = transport();
      const client = createClient([t]);
      const call = client.request('http://api.test/', { [name]: value } as RequestOptions);
      await expect(call).rejects.toThrow(ConfigError);
      await expect(
        client.request('http://api.test/', { [name]: value } as RequestOptions),
      ).rejects.toThrow(message);
      expect(t.requests).toHaveLength(0);
    },
  );

  it('accepts maxResponseBytes: Infinity per call (no limit), as the transports do', async () => {
    const t = transport();
    const client = createClient([t]);
    await client.get('http://api.test/', { maxResponseBytes: Number.POSITIVE_INFINITY });
    expect(t.requests[0]!.ctx.maxResponseBytes).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('createClient: a middleware that forgets `return next()`', () => {
  it('rejects with ERR_NO_RESPONSE naming the middleware, and discards the dropped response', async () => {
    let discarded = 0;
    const t = mockTransport([
      () =>
        createResponse({
          status: 200,
          headers: new Headers(),
          url: 'http://api.test/',
          method: 'GET',
          body: Readable.from([Buffer.from('x')]),
          discard: async () => {
            discarded++;
          },
        } as ResponseInit),
    ]);
    const pass: Middleware = (_ctx, next) => next();
    const forgetful = async function stamp(ctx: Context, next: Next) {
      ctx.request.headers.set('x-stamp', '1');
      await next();
    } as unknown as Middleware;
    const client = createClient([pass, forgetful, pass, t], { readBody: false });
    const error = await client.get('http://api.test/').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isExtapiError(error)).toBe(true);
    expect((error as ExtapiError).code).toBe('ERR_NO_RESPONSE');
    expect((error as Error).message).toMatch(/stack\[1\] \(stamp\).*return next\(\)/);
    expect((error as Error).message.match(/GET http:\/\/api\.test\//g)).toHaveLength(1);
    expect(discarded).toBe(1);
  });

  it('names a middleware that answers undefined without calling next, also with a deadline', async () => {
    const t = mockTransport([{ status: 200 }]);
    const pass: Middleware = (_ctx, next) => next();
    const shortCircuit = async function cacheLookup() {} as unknown as Middleware;
    const client = createClient([pass, shortCircuit, t], { timeoutMs: 1000 });
    await expect(client.get('http://api.test/')).rejects.toThrow(/stack\[1\] \(cacheLookup\)/);
    expect(t.requests).toHaveLength(0);
  });
});

describe('createClient: URLs under a baseUrl', () => {
  const send = async (baseUrl: string, path: string) => {
    const t = mockTransport([{ status: 200 }]);
    await createClient([t], { baseUrl }).get(path);
    return t.requests[0]!.url;
  };

  it("joins the path onto the base's path and merges the base's query", async () => {
    expect(await send('http://api.test/v1?tenant=7', '/items/42')).toBe(
      'http://api.test/v1/items/42?tenant=7',
    );
    expect(await send('http://api.test/v1?tenant=7', '/items/42?expand=a')).toBe(
      'http://api.test/v1/items/42?tenant=7&expand=a',
    );
  });

  it('keeps the path when the base has a fragment (fragments are never sent)', async () => {
    expect(await send('http://api.test/v1#x', '/items/42')).toBe('http://api.test/v1/items/42');
  });

  it.each(['/../admin', '/%2e%2e/%2e%2e/admin', '/items/../../admin', '..'])(
    "refuses %s, which climbs out of the base's path",
    async (path) => {
      const t = mockTransport([{ status: 200 }]);
      const client = createClient([t], { baseUrl: 'http://api.test/api/v1' });
      await expect(client.get(path)).rejects.toThrow(/leaves baseUrl's path \/api\/v1/);
      expect(t.requests).toHaveLength(0);
    },
  );

  it('still allows dot segments that stay under the base path, and absolute same-origin URLs', async () => {
    expect(await send('http://api.test/api/v1', '/items/../users')).toBe(
      'http://api.test/api/v1/users',
    );
    expect(await send('http://api.test/api/v1', 'http://api.test/admin')).toBe(
      'http://api.test/admin',
    );
  });
});

describe('createClient: sensitiveHeaders', () => {
  it('adds to the default list rather than replacing it', async () => {
    const t = mockTransport([
      { status: 302, headers: { location: 'http://other.test/next' } },
      { status: 200 },
    ]);
    const client = createClient([t], { sensitiveHeaders: ['X-Partner-Secret'] });
    await client.get('http://api.test/', {
      headers: { 'x-partner-secret': 's', 'x-api-key': 'k', 'x-auth-token': 't', accept: 'a' },
    });
    expect(t.requests[1]!.headers).toEqual({ accept: 'a' });
  });
});
