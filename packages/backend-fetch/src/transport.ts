// fetchTransport(): the terminal of a stack on globalThis.fetch, or on any fetch you pass.
// It sits last in createClient's array; core follows redirects, so fetch is always called with redirect: 'manual'.
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import { Readable as NodeReadable } from 'node:stream';
import {
  bodyLength,
  ConfigError,
  type Context,
  contentCodings,
  createResponse,
  defineTransport,
  ExtapiError,
  type HttpResponse,
  isExtapiError,
  limitStream,
  NEVER_ABORT,
  ResponseTooLargeError,
  readBody,
  type RequestBody,
  type Transport,
  withProgress,
} from '@extapi/core';
import { mapFetchError } from './map-error.js';

/**
 * The `fetch` the transport calls: `globalThis.fetch`, undici's `fetch`, or any function of that
 * shape. `init` is loosely typed because every implementation types its own `RequestInit`.
 * @example
 * const logged: FetchFunction = (url, init) => {
 *   console.log(init.method, url);
 *   return globalThis.fetch(url, init);
 * };
 */
// biome-ignore lint/suspicious/noExplicitAny: each fetch implementation has its own RequestInit type
export type FetchFunction = (input: string, init: any) => Promise<FetchResponse>;

/**
 * What the transport reads of a fetch `Response`: Node's, undici's and most others fit. `body` must
 * be a web `ReadableStream` of bytes (or `null`); `headers` must iterate as `[name, value]` pairs.
 * @example
 * const canned: FetchFunction = async () => new Response('{"ok":true}', { status: 200 });
 */
export interface FetchResponse {
  /** The HTTP status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly statusText: string;
  /** The response headers, as `[name, value]` pairs. */
  readonly headers: Iterable<[string, string]>;
  /** The body as a web `ReadableStream` of bytes, or `null` for none. */
  readonly body: object | null;
  /** Reads the whole body at once (used when there is no limit or progress to track). */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Options of {@link fetchTransport}. Every field is optional; `undefined` means the default.
 * @example
 * const options: FetchTransportOptions = { maxResponseBytes: 10 * 1024 * 1024, init: { keepalive: true } };
 */
export interface FetchTransportOptions {
  /** The fetch to call, e.g. undici's `fetch` or an instrumented wrapper. @default globalThis.fetch (read at creation) */
  fetch?: FetchFunction;
  /**
   * Fail with `ResponseTooLargeError` once the decoded body passes this many bytes. A request's own
   * `maxResponseBytes` overrides it; `Infinity` or `undefined` means no limit. @default undefined (unlimited)
   */
  maxResponseBytes?: number;
  /**
   * Extra `RequestInit` fields for every call, such as undici's `dispatcher`. The transport's own fields
   * (`method`, `headers`, `body`, `signal`, `redirect`, `duplex`) are set per call and cannot be given here.
   * @default {}
   */
  init?: RequestInit & Record<string, unknown>;
}

/**
 * The defaults of {@link FetchTransportOptions}; `fetch` is `globalThis.fetch` as found at creation.
 * @example
 * fetchTransport({ maxResponseBytes: DEFAULT_FETCH_TRANSPORT_OPTIONS.maxResponseBytes }); // unlimited
 */
export const DEFAULT_FETCH_TRANSPORT_OPTIONS: Readonly<{
  /** @see FetchTransportOptions.fetch */
  fetch: FetchFunction | undefined;
  /** @see FetchTransportOptions.maxResponseBytes */
  maxResponseBytes: number | undefined;
  /** @see FetchTransportOptions.init */
  init: Readonly<Record<string, unknown>>;
}> = Object.freeze({ fetch: undefined, maxResponseBytes: undefined, init: Object.freeze({}) });

/** {@link FetchTransportOptions} validated and filled by {@link resolveFetchTransportOptions}. */
export interface ResolvedFetchTransportOptions {
  /** The fetch function to call. */
  fetch: FetchFunction;
  /** The transport-level body limit in bytes; `undefined` for none. */
  maxResponseBytes: number | undefined;
  /** Extra `RequestInit` fields for every call. */
  init: Record<string, unknown>;
}

/** Options of undiciTransport that fetch has no way to honour (they belong to a dispatcher). */
const UNDICI_ONLY_OPTIONS = ['tls', 'proxy', 'proxyAuth', 'allowH2'];

/** Fields the transport sets on every call; giving them in `init` would be silently overridden. */
const OWN_INIT_FIELDS = ['method', 'headers', 'body', 'signal', 'redirect', 'duplex'];

function own<T extends object, K extends keyof T>(object: T, key: K): T[K] | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * Validates and fills {@link FetchTransportOptions} once, at creation; throws `ConfigError` naming
 * the option and the value.
 * @example
 * resolveFetchTransportOptions({ maxResponseBytes: -1 }); // ConfigError: Invalid option maxResponseBytes: -1 (…)
 */
export function resolveFetchTransportOptions(
  options: FetchTransportOptions = {},
): ResolvedFetchTransportOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('options', options, 'expected an object');
  }
  // Own properties only: a polluted Object.prototype (fetch, init, headers…) must change nothing.
  const given = own(options, 'fetch');
  const fetch =
    given === undefined ? (DEFAULT_FETCH_TRANSPORT_OPTIONS.fetch ?? globalThis.fetch) : given;
  if (typeof fetch !== 'function') {
    throw new ConfigError(
      'fetch',
      fetch,
      'expected a fetch function (globalThis.fetch is missing)',
    );
  }
  const givenMax = own(options, 'maxResponseBytes');
  const maxResponseBytes =
    givenMax === undefined ? DEFAULT_FETCH_TRANSPORT_OPTIONS.maxResponseBytes : givenMax;
  if (
    maxResponseBytes !== undefined &&
    maxResponseBytes !== Number.POSITIVE_INFINITY &&
    (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 0)
  ) {
    throw new ConfigError(
      'maxResponseBytes',
      maxResponseBytes,
      'expected an integer number of bytes >= 0, or Infinity',
    );
  }
  for (const name of UNDICI_ONLY_OPTIONS) {
    if (own(options as Record<string, unknown>, name) !== undefined) {
      // fetch has no such options: silently ignoring a CA, a client certificate or a proxy would
      // only fail later and less clearly, so point at the way that works instead.
      throw new ConfigError(
        name,
        name === 'tls' ? '[TLS options]' : (options as Record<string, unknown>)[name],
        "fetch takes no connection options; pass undici's fetch with init: { dispatcher: new Agent(…) " +
          'or new ProxyAgent(…) } (see the README), or use undiciTransport',
      );
    }
  }
  const givenInit = own(options, 'init');
  const init = givenInit === undefined ? DEFAULT_FETCH_TRANSPORT_OPTIONS.init : givenInit;
  if (init === null || typeof init !== 'object' || Array.isArray(init)) {
    throw new ConfigError('init', init, 'expected a RequestInit object');
  }
  for (const field of OWN_INIT_FIELDS) {
    const value = own(init as Record<string, unknown>, field);
    if (value !== undefined) {
      throw new ConfigError(
        `init.${field}`,
        value,
        'set per call by the transport (headers and redirects belong to createClient)',
      );
    }
  }
  return {
    fetch: fetch as FetchFunction,
    // Infinity (the undici transport's spelling of "no limit") keeps the uncounted fast path.
    maxResponseBytes: maxResponseBytes === Number.POSITIVE_INFINITY ? undefined : maxResponseBytes,
    init: { ...init },
  };
}

/**
 * A transport on fetch; `fetch` is the function in use (`client.transport.fetch`).
 * @example
 * const inUse = (client.transport as FetchTransport).fetch;
 */
export type FetchTransport = Transport & {
  /** The fetch function the transport calls. */
  readonly fetch: FetchFunction;
};

function isStreamBody(
  body: RequestBody,
): body is ReadableStream<Uint8Array> | Readable | AsyncIterable<Uint8Array> {
  return (
    typeof body === 'object' &&
    (typeof (body as ReadableStream).getReader === 'function' ||
      typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function')
  );
}

/** A web ReadableStream for fetch: Node streams and async iterables are adapted, web streams pass. */
function toWebStream(
  body: ReadableStream<Uint8Array> | Readable | AsyncIterable<Uint8Array>,
): ReadableStream<Uint8Array> {
  if (typeof (body as ReadableStream).getReader === 'function')
    return body as ReadableStream<Uint8Array>;
  // ReadableStream.from (Node >= 20.6) cancels by calling the iterator's return(), which destroys a Readable.
  return (
    ReadableStream as unknown as {
      from(iterable: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array>;
    }
  ).from(body as AsyncIterable<Uint8Array>);
}

/**
 * A Node Readable over fetch's body. Written by hand rather than with Readable.fromWeb so that errors
 * (fetch's `terminated`, an abort) are mapped like every other transport error, and destroying the
 * Readable cancels fetch's stream, which releases or closes its connection.
 */
function toNodeStream(
  body: ReadableStream<Uint8Array>,
  mapError: (error: unknown) => unknown,
): Readable {
  const reader = body.getReader();
  return new NodeReadable({
    read() {
      reader.read().then(
        ({ done, value }) => {
          // See connectionReleased(): end one turn later, so a request made on 'end' reuses the connection.
          if (done) setImmediate(() => this.push(null));
          else this.push(value);
        },
        (error: unknown) => this.destroy(mapError(error) as Error),
      );
    },
    destroy(error, callback) {
      reader.cancel(error ?? undefined).catch(() => {});
      callback(error);
    },
  });
}

/**
 * Resolves once undici has handed the connection of a fully read body back to its pool: it does so
 * in a setImmediate after the body's end, so a request sent sooner would open a second connection.
 * One event-loop turn is cheaper than the extra sockets: with it the benchmark measured less CPU
 * per request than without, and than global fetch called bare.
 */
function connectionReleased(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An unread body up to this size is read to its end on discard, so fetch keeps the connection. */
const DRAIN_MAX_BYTES = 64 * 1024;
/** A drain that takes longer (a stalled server) is cut short: the body is cancelled instead. */
const DRAIN_TIMEOUT_MS = 1_000;

/**
 * Releases an unread body. Cancelling fetch's stream before the body has fully arrived closes the
 * connection, so a small body is drained instead and its connection goes back to the pool; a large,
 * endless or stalled one is cancelled (after at most DRAIN_MAX_BYTES or DRAIN_TIMEOUT_MS). Never rejects.
 */
function discardBody(stream: Readable, contentLength: number | undefined): Promise<void> {
  stream.on('error', () => {});
  if (contentLength !== undefined && contentLength > DRAIN_MAX_BYTES) {
    stream.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let drained = 0;
    const timer = setTimeout(() => stream.destroy(), DRAIN_TIMEOUT_MS);
    stream.on('data', (chunk: Uint8Array) => {
      drained += chunk.byteLength;
      if (drained > DRAIN_MAX_BYTES) stream.destroy();
    });
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.resume();
  });
}

function withRequest(error: unknown, ctx: Context): unknown {
  // core's contentCodings() throws without knowing the request; the caller needs method and URL.
  if (isExtapiError(error) && error.url === undefined) {
    return new ExtapiError(error.message, error.code, {
      method: ctx.request.method,
      url: ctx.request.url,
      attempt: ctx.attempt,
      cause: error,
    });
  }
  return error;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The RequestInit of one call: `init` underneath, then what the transport owns. */
function requestInit(
  ctx: Context,
  init: Record<string, unknown>,
  request: Context['request'] = ctx.request,
): RequestInit {
  const { method, headers, body } = request;
  // No prototype: fetch reads RequestInit members through the prototype chain (WebIDL dictionaries
  // do), so a polluted Object.prototype.body or .dispatcher would otherwise reach every request.
  const out: RequestInit & Record<string, unknown> = Object.assign(Object.create(null), {
    ...init,
    method,
    headers,
    // A signal that can never abort is not worth fetch's listener bookkeeping.
    signal: ctx.signal === NEVER_ABORT ? undefined : ctx.signal,
    // core follows redirects (one policy for every transport); fetch hands back the 3xx as it is.
    redirect: 'manual',
  });
  if (body === undefined || body === null) return out;
  const onUploadProgress = ctx.onUploadProgress;
  if (onUploadProgress && !(body instanceof FormData)) {
    // Progress needs to see each chunk; FormData is encoded by fetch itself, so it reports none.
    const total = bodyLength(body);
    const source =
      typeof body === 'string'
        ? once(Buffer.from(body))
        : body instanceof Uint8Array
          ? once(body)
          : body instanceof ArrayBuffer
            ? once(new Uint8Array(body))
            : body instanceof Blob
              ? (body.stream() as unknown as AsyncIterable<Uint8Array>)
              : isStreamBody(body)
                ? (body as AsyncIterable<Uint8Array>)
                : once(Buffer.from(String(body)));
    if (total !== undefined) {
      // A stream body would go out chunked; the known length keeps the request as it was.
      const withLength = new Headers(headers);
      withLength.set('content-length', String(total));
      out.headers = withLength;
    }
    out.body = toWebStream(withProgress(source, total, onUploadProgress));
    out.duplex = 'half';
  } else if (isStreamBody(body)) {
    out.body = toWebStream(body);
    // Required by fetch for a stream body: the request is sent while the response may already arrive.
    out.duplex = 'half';
  } else {
    out.body = body as BodyInit;
  }
  return out;
}

/**
 * The request with its FormData body encoded to bytes (and its multipart content-type set): a fetch
 * other than the global one (undici 7's on Node 20) does not know the global FormData class and
 * would send it as the text "[object FormData]".
 */
async function withEncodedForm(request: Context['request']): Promise<Context['request']> {
  const encoded = new Response(request.body as FormData);
  const headers = new Headers(request.headers);
  if (!headers.has('content-type'))
    headers.set('content-type', encoded.headers.get('content-type')!);
  return { ...request, headers, body: new Uint8Array(await encoded.arrayBuffer()) };
}

function cancel(body: ReadableStream<Uint8Array> | null): void {
  body?.cancel().catch(() => {});
}

/**
 * A transport on `fetch`: `globalThis.fetch` by default, or the `fetch` you pass (undici's with a
 * `ProxyAgent` dispatcher, an instrumented one…). Redirects are followed by `createClient`, never by fetch.
 * fetch decodes gzip/deflate/br itself; the transport still refuses more than 5 stacked codings and
 * counts decoded bytes against `maxResponseBytes`. An unread body that is discarded is drained when
 * small (so its connection is reused) and cancelled when large or stalled.
 * Options: `fetch` (default `globalThis.fetch`), `maxResponseBytes` (default unlimited), `init` (default `{}`).
 * @example
 * import { createClient } from '@extapi/core';
 * import { fetchTransport } from '@extapi/backend-fetch';
 *
 * const client = createClient([fetchTransport({ maxResponseBytes: 10 * 1024 * 1024 })], {
 *   baseUrl: 'https://api.partner.example/v1',
 * });
 * const res = await client.get('/items/42');
 * console.log(res.status, await res.json(), client.transport.fetch === globalThis.fetch);
 */
export function fetchTransport(options: FetchTransportOptions = {}): FetchTransport {
  const { fetch, maxResponseBytes, init } = resolveFetchTransportOptions(options);
  const foreignFetch = fetch !== globalThis.fetch;

  async function fetchRequest(ctx: Context): Promise<HttpResponse> {
    const { method, url, body: requestBody } = ctx.request;
    let res: FetchResponse;
    try {
      const request =
        foreignFetch && requestBody instanceof FormData
          ? await withEncodedForm(ctx.request)
          : ctx.request;
      res = await fetch(url.href, requestInit(ctx, init, request));
    } catch (error) {
      throw mapFetchError(error, ctx);
    }
    const body = res.body as ReadableStream<Uint8Array> | null;

    const status = res.status;
    // A copy: fetch's own Headers are immutable, and iteration keeps each set-cookie apart.
    const responseHeaders = new Headers(res.headers as HeadersInit);
    const base = {
      status,
      // HTTP/2 has no reason phrase: the standard one, as the undici transport gives.
      statusText: res.statusText || STATUS_CODES[status] || '',
      headers: responseHeaders,
      url: url.href,
      method,
      raw: res,
    };
    if (body === null || method === 'HEAD' || status === 204 || status === 304) {
      cancel(body);
      await connectionReleased();
      return createResponse({ ...base, body: null });
    }
    try {
      // fetch has decoded the body already; the header still says how many codings were stacked.
      contentCodings(responseHeaders.get('content-encoding'));
    } catch (error) {
      cancel(body);
      throw withRequest(error, ctx);
    }

    const maxBytes = ctx.maxResponseBytes ?? maxResponseBytes;
    const onProgress = ctx.onDownloadProgress;
    if (ctx.readBody && maxBytes === undefined && onProgress === undefined) {
      // The fast path: no limit to count against, so let fetch buffer the body in one piece.
      try {
        const bytes = Buffer.from(await res.arrayBuffer());
        await connectionReleased();
        return createResponse({ ...base, body: bytes });
      } catch (error) {
        throw mapFetchError(error, ctx);
      }
    }
    const contentLength = responseHeaders.get('content-length');
    // Before decoding, content-length says nothing about the decoded size.
    const totalBytes =
      contentLength !== null &&
      /^\d+$/.test(contentLength) &&
      !responseHeaders.has('content-encoding')
        ? Number(contentLength)
        : undefined;
    if (maxBytes !== undefined && totalBytes !== undefined && totalBytes > maxBytes) {
      // Known too large before a byte of it is read: do not download it.
      cancel(body);
      throw new ResponseTooLargeError(maxBytes, { method, url, attempt: ctx.attempt });
    }
    const limits = { maxBytes, onProgress, totalBytes, method, url: url.href };
    if (ctx.readBody) {
      try {
        // A web ReadableStream is async-iterable; leaving the loop early cancels fetch's body.
        const bytes = await readBody(body as unknown as AsyncIterable<Uint8Array>, limits);
        await connectionReleased();
        return createResponse({ ...base, body: bytes });
      } catch (error) {
        throw mapFetchError(error, ctx);
      }
    }
    const stream = limitStream(
      toNodeStream(body, (error) => mapFetchError(error, ctx)),
      limits,
    );
    return createResponse({
      ...base,
      body: stream,
      discard: (unread) => discardBody(unread, totalBytes),
    });
  }

  return defineTransport<{ fetch: FetchFunction }>(fetchRequest, {
    name: 'fetch',
    extra: { fetch },
  });
}
