// Tests of what is particular to the fetch transport: the fetch it calls, its options, and how it
// adapts fetch's streams, decoding and errors. The shared behaviour is in conformance.integration.test.ts.
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  createClient,
  type ExtapiError,
  isConfigError,
  isExtapiError,
  isTransportError,
  type HttpResponse,
} from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { DEFAULT_FETCH_TRANSPORT_OPTIONS, type FetchFunction, fetchTransport } from './index.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    switch (url.pathname) {
      case '/echo':
        res.setHeader('x-method', req.method ?? '');
        res.setHeader('x-transfer-encoding', req.headers['transfer-encoding'] ?? '');
        res.end(body);
        return;
      case '/gzip': {
        const size = Number(url.searchParams.get('size'));
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end(gzipSync(Buffer.alloc(size, 0x61)));
        return;
      }
      case '/corrupt-gzip':
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end(
          Buffer.concat([
            gzipSync('x'.repeat(1000)).subarray(0, 10),
            Buffer.from('not gzip at all'),
          ]),
        );
        return;
      case '/redirect':
        res.writeHead(302, { location: '/echo' });
        res.end('moved');
        return;
      case '/reset':
        res.writeHead(200, { 'content-length': '100000' });
        res.write(Buffer.alloc(1000, 0x61));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      case '/slow':
        res.writeHead(200);
        res.write('first');
        setTimeout(() => res.end('last'), 2_000).unref();
        return;
      case '/cookies':
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end('ok');
        return;
      default:
        res.end('hello');
    }
  });
});

afterAll(() => server.close());

/** A fetch that records each call and passes it on to the global one. */
function recordingFetch(): FetchFunction & {
  calls: { input: string; init: RequestInit & Record<string, unknown> }[];
} {
  const calls: { input: string; init: RequestInit & Record<string, unknown> }[] = [];
  const fn = (input: string, init: RequestInit) => {
    calls.push({ input, init: init as RequestInit & Record<string, unknown> });
    return globalThis.fetch(input, init);
  };
  return Object.assign(fn, { calls });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('fetchTransport options', () => {
  it('uses globalThis.fetch by default and exposes it as client.transport.fetch', () => {
    const client = createClient([fetchTransport()]);
    expect(client.transport.transportName).toBe('fetch');
    expect((client.transport as ReturnType<typeof fetchTransport>).fetch).toBe(globalThis.fetch);
    expect(client.describe()).toEqual(['fetchTransport']);
  });

  it('calls the fetch it was given and exposes that one', async () => {
    const fetch = recordingFetch();
    const transport = fetchTransport({ fetch });
    const client = createClient([transport]);
    const res = await client.get(`${server.url}/hello`);
    expect(await res.text()).toBe('hello');
    expect(transport.fetch).toBe(fetch);
    expect(fetch.calls).toHaveLength(1);
    expect(fetch.calls[0]!.input).toBe(`${server.url}/hello`);
  });

  it('calls fetch with redirect manual, the call signal, method and headers, and init underneath', async () => {
    const fetch = recordingFetch();
    const dispatcherStandIn = { keepalive: false, priority: 'high' as const };
    // headersTimeoutMs: 0, so that the transport's head deadline adds no signal of its own.
    const client = createClient([
      fetchTransport({ fetch, init: dispatcherStandIn, headersTimeoutMs: 0 }),
    ]);
    const controller = new AbortController();
    const res = await client.post(`${server.url}/echo`, {
      body: 'x',
      headers: { 'x-test': '1' },
      signal: controller.signal,
    });
    expect(res.headers.get('x-method')).toBe('POST');
    await client.post(`${server.url}/echo`, { body: 'x' });
    const { init } = fetch.calls[0]!;
    expect(init).toMatchObject({
      method: 'POST',
      redirect: 'manual',
      keepalive: false,
      priority: 'high',
      body: 'x',
    });
    expect(init.signal).toBeInstanceOf(AbortSignal);
    expect(new Headers(init.headers).get('x-test')).toBe('1');
    expect(init.duplex).toBeUndefined();
    // A call that nothing can abort (no signal, no deadline) hands fetch no signal at all.
    expect(fetch.calls[1]!.init.signal).toBeUndefined();
  });

  it('leaves redirects to the client: with redirect manual the 302 comes back as it is', async () => {
    const client = createClient([fetchTransport()], { redirect: 'manual' });
    const res = await client.get(`${server.url}/redirect`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/echo');
    expect(await res.text()).toBe('moved');
  });

  it("rejects a redirect a browser hides (an 'opaqueredirect', status 0) with ERR_REDIRECT_HIDDEN, not as a response", async () => {
    // What a browser's fetch answers a 3xx with under redirect: 'manual': no status, no Location.
    const opaque = {
      type: 'opaqueredirect',
      status: 0,
      statusText: '',
      headers: new Headers(),
      body: null,
      arrayBuffer: async () => new ArrayBuffer(0),
    };
    const fetch: FetchFunction = async () => opaque;
    const client = createClient([fetchTransport({ fetch })]);
    const error = (await client
      .get('https://api.partner.example/moved')
      .catch((e) => e)) as ExtapiError;
    expect(error.code).toBe('ERR_REDIRECT_HIDDEN');
    expect(error.url).toBe('https://api.partner.example/moved');
    expect(error.message).toContain('call the URL it leads to');
  });

  it('has documented defaults', () => {
    expect(DEFAULT_FETCH_TRANSPORT_OPTIONS).toEqual({
      fetch: undefined,
      maxResponseBytes: undefined,
      headersTimeoutMs: 300_000,
      init: {},
    });
  });

  it.each([
    ['maxResponseBytes', { maxResponseBytes: -1 }, '-1'],
    ['maxResponseBytes', { maxResponseBytes: 1.5 }, '1.5'],
    ['maxResponseBytes', { maxResponseBytes: Number.NaN }, 'NaN'],
    ['maxResponseBytes', { maxResponseBytes: '10' }, '"10"'],
    ['fetch', { fetch: 'https://example.test' }, '"https://example.test"'],
    ['init', { init: null }, 'null'],
    ['init', { init: [] }, 'array(0)'],
    ['init.redirect', { init: { redirect: 'follow' } }, '"follow"'],
    ['init.signal', { init: { signal: AbortSignal.abort() } }, '[object AbortSignal]'],
    ['init.headers', { init: { headers: { a: 'b' } } }, '[REDACTED]'],
    ['options', 'fast', '"fast"'],
  ])('throws ConfigError at creation for an invalid %s (%p)', (option, options, shown) => {
    let error: unknown;
    try {
      fetchTransport(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option, code: 'ERR_CONFIG' });
    expect((error as Error).message).toContain(`Invalid option ${option}: ${shown}`);
  });

  it('accepts explicit undefined as the default, 0 and Infinity for maxResponseBytes', async () => {
    const unlimited = createClient([
      fetchTransport({
        fetch: undefined,
        maxResponseBytes: Number.POSITIVE_INFINITY,
        init: undefined,
      }),
    ]);
    expect((await (await unlimited.get(`${server.url}/gzip?size=100000`)).bytes()).byteLength).toBe(
      100_000,
    );
    const nothing = createClient([fetchTransport({ maxResponseBytes: 0 })]);
    expect(await rejection(nothing.get(`${server.url}/hello`))).toMatchObject({
      name: 'ResponseTooLargeError',
      maxResponseBytes: 0,
    });
  });

  it('throws ConfigError when no fetch is given and globalThis.fetch is missing', () => {
    const original = globalThis.fetch;
    try {
      (globalThis as { fetch?: unknown }).fetch = undefined;
      expect(() => fetchTransport()).toThrow(/Invalid option fetch \(expected a fetch function/);
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe('fetchTransport requests and responses', () => {
  it.each([
    ['a Node Readable', () => Readable.from([Buffer.from('ab'), Buffer.from('cd')])],
    [
      'an async generator',
      () =>
        (async function* () {
          yield new TextEncoder().encode('ab');
          yield new TextEncoder().encode('cd');
        })(),
    ],
    [
      'a web ReadableStream',
      () =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('abcd'));
            controller.close();
          },
        }),
    ],
  ])('streams %s as a web ReadableStream with duplex half', async (_name, makeBody) => {
    const fetch = recordingFetch();
    const client = createClient([fetchTransport({ fetch })]);
    const res = await client.post(`${server.url}/echo`, { body: makeBody() });
    expect(await res.text()).toBe('abcd');
    expect(res.headers.get('x-transfer-encoding')).toBe('chunked');
    expect(fetch.calls[0]!.init.duplex).toBe('half');
    expect(fetch.calls[0]!.init.body).toBeInstanceOf(ReadableStream);
  });

  it('keeps each set-cookie header apart in its own Headers copy, and raw is fetch Response', async () => {
    const client = createClient([fetchTransport()]);
    const res = await client.get(`${server.url}/cookies`);
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.raw).toBeInstanceOf(Response);
    expect(res.headers).not.toBe((res.raw as Response).headers);
    res.headers.set('x-mutable', 'yes');
    expect(res.headers.get('x-mutable')).toBe('yes');
  });

  it('counts decoded bytes against maxResponseBytes, so a small gzip bomb stops at the limit', async () => {
    const client = createClient([fetchTransport({ maxResponseBytes: 1_000_000 })]);
    const ok = await client.get(`${server.url}/gzip?size=1000000`);
    expect((await ok.bytes()).byteLength).toBe(1_000_000);
    const error = await rejection(client.get(`${server.url}/gzip?size=1000001`));
    expect(error).toMatchObject({ name: 'ResponseTooLargeError', maxResponseBytes: 1_000_000 });
  });

  it('lets a request maxResponseBytes override the transport option, also for a streamed body', async () => {
    const client = createClient([fetchTransport({ maxResponseBytes: 10 })]);
    const res = await client.get(`${server.url}/gzip?size=100`, { maxResponseBytes: 100 });
    expect((await res.bytes()).byteLength).toBe(100);
    const streamed = await client.get(`${server.url}/gzip?size=100`, {
      maxResponseBytes: 99,
      readBody: false,
    });
    expect(streamed.body).toBeInstanceOf(Readable);
    expect(await rejection(streamed.bytes())).toMatchObject({
      name: 'ResponseTooLargeError',
      maxResponseBytes: 99,
    });
  });

  it('reports download progress from the decoded stream', async () => {
    const progress: number[] = [];
    const client = createClient([fetchTransport()]);
    const res = await client.get(`${server.url}/gzip?size=5000`, {
      onDownloadProgress: (p) => progress.push(p.transferredBytes),
    });
    expect((await res.bytes()).byteLength).toBe(5000);
    expect(progress[progress.length - 1]).toBe(5000);
  });

  it.each([
    ['a string', () => 'x'.repeat(100_000), 100_000],
    ['bytes', () => new Uint8Array(100_000), 100_000],
    [
      'a Node Readable',
      () => Readable.from([Buffer.alloc(60_000), Buffer.alloc(40_000)]),
      undefined,
    ],
  ])('reports upload progress for %s and sends it whole', async (_name, makeBody, total) => {
    const seen: { transferredBytes: number; totalBytes?: number }[] = [];
    const client = createClient([fetchTransport()]);
    const res = await client.post(`${server.url}/echo`, {
      body: makeBody(),
      onUploadProgress: (p) => seen.push(p),
    });
    expect((await res.bytes()).byteLength).toBe(100_000);
    // A known length stays a content-length request rather than going out chunked.
    expect(res.headers.get('x-transfer-encoding')).toBe(total === undefined ? 'chunked' : '');
    expect(seen[seen.length - 1]).toEqual(
      total === undefined
        ? { transferredBytes: 100_000 }
        : { transferredBytes: 100_000, totalBytes: total, percent: 100 },
    );
  });

  it('refuses a body whose content-length is over maxResponseBytes without reading it', async () => {
    let pulls = 0;
    const fetch: FetchFunction = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulls++;
            controller.enqueue(new Uint8Array(10));
          },
        }),
        { headers: { 'content-length': '1000' } },
      );
    const client = createClient([fetchTransport({ fetch, maxResponseBytes: 999 })]);
    const error = await rejection(client.get('http://api.test/large'));
    expect(error).toMatchObject({ name: 'ResponseTooLargeError', url: 'http://api.test/large' });
    expect(pulls).toBeLessThanOrEqual(1);
  });

  it('refuses more than 5 stacked content codings that a fetch would otherwise hand over', async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(16));
      },
    });
    const fetch: FetchFunction = async () =>
      new Response(body, { headers: { 'content-encoding': 'gzip, gzip, gzip, gzip, gzip, gzip' } });
    const client = createClient([fetchTransport({ fetch })]);
    const error = await rejection(client.get('http://api.test/bomb'));
    expect(error).toMatchObject({
      code: 'ERR_CONTENT_ENCODING',
      method: 'GET',
      url: 'http://api.test/bomb',
    });
    expect(body.locked).toBe(false);
    // The body was cancelled, so nothing keeps pulling from it.
    await expect(body.getReader().read()).resolves.toEqual({ done: true, value: undefined });
  });

  it('cancels fetch body stream when an unread body of unknown size is discarded after draining 64 KiB', async () => {
    let cancelled: unknown = 'not cancelled';
    let pulled = 0;
    const fetch: FetchFunction = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled += 1024;
            controller.enqueue(new Uint8Array(1024));
          },
          cancel(reason) {
            cancelled = reason;
          },
        }),
      );
    const client = createClient([fetchTransport({ fetch })]);
    const res = await client.get('http://api.test/endless', { readBody: false });
    await expect(res.discard()).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(cancelled).toBeUndefined();
    expect(pulled).toBeLessThan(256 * 1024);
  });

  it('cancels a large unread body at once when it is discarded', async () => {
    let pulls = 0;
    let cancelled = false;
    const fetch: FetchFunction = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulls++;
            controller.enqueue(new Uint8Array(1024));
          },
          cancel() {
            cancelled = true;
          },
        }),
        { headers: { 'content-length': String(10 * 1024 * 1024) } },
      );
    const client = createClient([fetchTransport({ fetch })]);
    const res = await client.get('http://api.test/large', { readBody: false });
    const pullsBefore = pulls;
    await res.discard();
    await new Promise((resolve) => setImmediate(resolve));
    expect([cancelled, pulls - pullsBefore]).toEqual([true, 0]);
  });

  it('cancels a small unread body that stalls while it is drained, after one second', async () => {
    jest.useFakeTimers();
    try {
      let cancelled = false;
      const fetch: FetchFunction = async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull: () => new Promise(() => {}),
            cancel() {
              cancelled = true;
            },
          }),
          { headers: { 'content-length': '100' } },
        );
      const client = createClient([fetchTransport({ fetch })]);
      const res = await client.get('http://api.test/stalled', { readBody: false });
      let settled = false;
      const discarding = res.discard().then(() => {
        settled = true;
      });
      await jest.advanceTimersByTimeAsync(999);
      expect([settled, cancelled]).toEqual([false, false]);
      await jest.advanceTimersByTimeAsync(1);
      await discarding;
      expect(cancelled).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it.each([
    ['HEAD', 200],
    ['GET', 204],
    ['GET', 304],
  ])(
    'gives no body for %s with status %i even when fetch hands one over, and cancels it',
    async (method, status) => {
      let cancelled = false;
      const stray = new ReadableStream<Uint8Array>({
        cancel() {
          cancelled = true;
        },
      });
      const fetch: FetchFunction = async () =>
        ({ status, statusText: '', headers: new Headers(), body: stray }) as unknown as Response;
      const client = createClient([fetchTransport({ fetch })]);
      const res: HttpResponse = await client.request('http://api.test/', {
        method,
        readBody: false,
      });
      expect([res.status, res.body, (await res.bytes()).byteLength, cancelled]).toEqual([
        status,
        null,
        0,
        true,
      ]);
    },
  );
});

describe('fetchTransport errors', () => {
  it('maps a connection reset in the middle of the body to TransportError ECONNRESET with method, URL and cause', async () => {
    const client = createClient([fetchTransport()]);
    const error = await rejection(client.get(`${server.url}/reset`));
    expect(isTransportError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ECONNRESET', method: 'GET', url: `${server.url}/reset` });
    expect((error as Error).cause).toMatchObject({ name: 'TypeError', message: 'terminated' });
  });

  it('maps the same reset on a streamed body to TransportError ECONNRESET', async () => {
    const client = createClient([fetchTransport()]);
    const res = await client.get(`${server.url}/reset`, { readBody: false });
    const error = await rejection(res.text());
    expect(error).toMatchObject({ name: 'TransportError', code: 'ECONNRESET' });
  });

  it('rejects a streamed body with the signal reason when the caller aborts while it is read', async () => {
    const controller = new AbortController();
    const client = createClient([fetchTransport()]);
    const res = await client.get(`${server.url}/slow`, {
      readBody: false,
      signal: controller.signal,
    });
    const reason = new Error('caller gave up');
    const reading = rejection(res.text());
    setTimeout(() => controller.abort(reason), 20);
    expect(await reading).toBe(reason);
  });

  it('rejects with the signal reason when the caller aborts while the whole body is read', async () => {
    const controller = new AbortController();
    const client = createClient([fetchTransport({ maxResponseBytes: 1 << 20 })]);
    const reason = new Error('caller gave up');
    setTimeout(() => controller.abort(reason), 50);
    expect(await rejection(client.get(`${server.url}/slow`, { signal: controller.signal }))).toBe(
      reason,
    );
  });

  it.each([true, false])(
    'maps a corrupt gzip body to ERR_CONTENT_DECODING (readBody %p)',
    async (readBody) => {
      const client = createClient([fetchTransport()]);
      const read = async () =>
        (await client.get(`${server.url}/corrupt-gzip`, { readBody })).bytes();
      const error = await rejection(read());
      expect(error).toMatchObject({
        name: 'ExtapiError',
        code: 'ERR_CONTENT_DECODING',
        method: 'GET',
      });
      expect(await (await client.get(`${server.url}/hello`)).text()).toBe('hello');
    },
  );

  it('maps a refused connection to TransportError ECONNREFUSED', async () => {
    const closed = await startTestServer((_req, res) => {
      res.end();
    });
    const url = `${closed.url}/`;
    await closed.close();
    const error = await rejection(createClient([fetchTransport()]).get(url));
    expect(isTransportError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', method: 'GET', url });
  });

  it('wraps any other error of a custom fetch in a TransportError whose cause is that error', async () => {
    const failure = new Error('not extapi');
    const client = createClient([fetchTransport({ fetch: () => Promise.reject(failure) })]);
    const error = await rejection(client.get('http://api.test/'));
    expect(isExtapiError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'TransportError', cause: failure });
  });
});
