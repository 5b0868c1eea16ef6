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
  discardStream,
  ExtapiError,
  type HttpResponse,
  isDiscardedRedirect,
  isExtapiError,
  lengthMismatch,
  limitStream,
  NEVER_ABORT,
  type OptionCheck,
  type OptionSpec,
  option,
  REDACTED,
  ResponseTooLargeError,
  readBody,
  readOptions,
  type RequestBody,
  responseLimit,
  TimeoutError,
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
   * Fail with `ResponseTooLargeError` once the decoded body passes this many bytes, for bodies read
   * whole and streamed alike. A request's own `maxResponseBytes` overrides it; `Infinity` means no limit.
   * @default 33554432 (32 MiB, `DEFAULT_MAX_BUFFERED_BYTES`) for a body read whole, no limit for a stream (`readBody: false`)
   */
  maxResponseBytes?: number;
  /**
   * Deadline for the final response head, in ms, from the moment fetch is called: informational
   * `1xx` answers do not restart it (the deadline of fetch's own dispatcher does). `0` disables it.
   * Past it, `TimeoutError` phase `headers`.
   * @default 300000
   */
  headersTimeoutMs?: number;
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
 * fetchTransport({ headersTimeoutMs: DEFAULT_FETCH_TRANSPORT_OPTIONS.headersTimeoutMs / 10 });
 */
export const DEFAULT_FETCH_TRANSPORT_OPTIONS: Readonly<{
  /** @see FetchTransportOptions.fetch */
  fetch: FetchFunction | undefined;
  /** @see FetchTransportOptions.maxResponseBytes (`undefined`: 32 MiB buffered, streams unlimited) */
  maxResponseBytes: number | undefined;
  /** @see FetchTransportOptions.headersTimeoutMs */
  headersTimeoutMs: number;
  /** @see FetchTransportOptions.init */
  init: Readonly<Record<string, unknown>>;
}> = Object.freeze({
  fetch: undefined,
  maxResponseBytes: undefined,
  headersTimeoutMs: 300_000,
  init: Object.freeze({}),
});

/** {@link FetchTransportOptions} validated and filled by {@link resolveFetchTransportOptions}. */
export interface ResolvedFetchTransportOptions {
  /** The fetch function to call. */
  fetch: FetchFunction;
  /** The transport-level body limit in bytes; `undefined`: the default rule of `responseLimit`. */
  maxResponseBytes: number | undefined;
  /** The deadline for the final response head in ms; `0` for none. */
  headersTimeoutMs: number;
  /** Extra `RequestInit` fields for every call. */
  init: Record<string, unknown>;
}

/** Options of undiciTransport that fetch has no way to honour (they belong to a dispatcher). */
const UNDICI_ONLY_OPTIONS = ['tls', 'proxy', 'proxyAuth', 'allowH2'];

/** Fields the transport sets on every call; giving them in `init` would be silently overridden. */
const OWN_INIT_FIELDS = ['method', 'headers', 'body', 'signal', 'redirect', 'duplex'];

const initCheck: OptionCheck<Record<string, unknown>> = (value, name) => {
  if (value === undefined) return { ...DEFAULT_FETCH_TRANSPORT_OPTIONS.init };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(name, value, 'expected a RequestInit object');
  }
  for (const field of OWN_INIT_FIELDS) {
    if (Object.hasOwn(value, field) && (value as Record<string, unknown>)[field] !== undefined) {
      throw new ConfigError(
        `${name}.${field}`,
        // headers may carry credentials: never quoted.
        field === 'headers' ? REDACTED : (value as Record<string, unknown>)[field],
        'set per call by the transport (headers and redirects belong to createClient)',
      );
    }
  }
  // Own fields only: a polluted Object.prototype must not reach fetch.
  return { ...value };
};

/** Every option of {@link FetchTransportOptions}, checked by core's options kit. */
const FETCH_SPEC = {
  fetch: option.fn<FetchFunction>(),
  maxResponseBytes: option.integer<undefined>({ infinity: true }),
  headersTimeoutMs: option.ms({ default: DEFAULT_FETCH_TRANSPORT_OPTIONS.headersTimeoutMs }),
  init: initCheck,
} satisfies OptionSpec<FetchTransportOptions>;

/**
 * Validates and fills {@link FetchTransportOptions} once, at creation; throws `ConfigError` naming
 * the option and the value (never a credential's), and for an unknown option the nearest known one.
 * @example
 * resolveFetchTransportOptions({ maxResponseBytes: -1 }); // ConfigError: Invalid option maxResponseBytes: -1 (…)
 */
export function resolveFetchTransportOptions(
  options?: FetchTransportOptions,
): ResolvedFetchTransportOptions {
  if (options !== null && typeof options === 'object') {
    for (const name of UNDICI_ONLY_OPTIONS) {
      if (Object.hasOwn(options, name)) {
        // fetch has no such options: silently ignoring a CA, a client certificate or a proxy would
        // only fail later and less clearly, so point at the way that works instead. The value may
        // hold credentials (a proxy URL, proxyAuth, a key): never quoted.
        throw new ConfigError(
          name,
          REDACTED,
          "fetch takes no connection options; pass undici's fetch with init: { dispatcher: new Agent(…) " +
            'or new ProxyAgent(…) } (see the README), or use undiciTransport',
        );
      }
    }
  }
  const read = readOptions('fetchTransport()', options, FETCH_SPEC);
  const fetch = read.fetch ?? DEFAULT_FETCH_TRANSPORT_OPTIONS.fetch ?? globalThis.fetch;
  if (typeof fetch !== 'function') {
    throw new ConfigError(
      'fetch',
      undefined,
      'expected a fetch function (globalThis.fetch is missing)',
    );
  }
  return { ...read, fetch: fetch as FetchFunction };
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
  failure: BodyFailure,
): ReadableStream<Uint8Array> {
  if (typeof (body as ReadableStream).getReader === 'function')
    return body as ReadableStream<Uint8Array>;
  body = recordFailure(body as AsyncIterable<Uint8Array>, failure);
  // ReadableStream.from (Node >= 20.6) cancels by calling the iterator's return(), which destroys a Readable.
  return (
    ReadableStream as unknown as {
      from(iterable: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array>;
    }
  ).from(body as AsyncIterable<Uint8Array>);
}

/** Where a request body's own error is kept: fetch reports it as a bare `fetch failed`. */
interface BodyFailure {
  error?: unknown;
}

/** Passes `source` through, keeping the error it fails with (a lying content-length, a broken stream). */
async function* recordFailure(
  source: AsyncIterable<Uint8Array>,
  failure: BodyFailure,
): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    failure.error = error;
    throw error;
  }
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
  request: Context['request'],
  signal: AbortSignal,
  failure: BodyFailure,
): RequestInit {
  const { method, headers, body } = request;
  // No prototype: fetch reads RequestInit members through the prototype chain (WebIDL dictionaries
  // do), so a polluted Object.prototype.body or .dispatcher would otherwise reach every request.
  const out: RequestInit & Record<string, unknown> = Object.assign(Object.create(null), {
    ...init,
    method,
    headers,
    // A signal that can never abort is not worth fetch's listener bookkeeping.
    signal: signal === NEVER_ABORT ? undefined : signal,
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
    out.body = toWebStream(withProgress(source, total, onUploadProgress), failure);
    out.duplex = 'half';
  } else if (isStreamBody(body)) {
    out.body = toWebStream(body, failure);
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
export function fetchTransport(options?: FetchTransportOptions): FetchTransport {
  const { fetch, maxResponseBytes, headersTimeoutMs, init } = resolveFetchTransportOptions(options);
  const foreignFetch = fetch !== globalThis.fetch;

  /**
   * Calls fetch with the head deadline (fetch's own restarts on every 1xx, this one does not), and
   * rejects with the request body's own error when that is what failed.
   */
  async function send(ctx: Context, request: Context['request']): Promise<FetchResponse> {
    const failure: BodyFailure = {};
    // The head deadline is a child of the call's scope, on the call's one timer; its signal is the
    // one AbortController fetch needs. It stops at the head and keeps following the call's scope,
    // so a caller's abort still reaches a body streamed after it.
    const head =
      headersTimeoutMs > 0
        ? ctx.scope.child(
            headersTimeoutMs,
            () =>
              new TimeoutError(headersTimeoutMs, {
                method: request.method,
                url: request.url,
                attempt: ctx.attempt,
                phase: 'headers',
              }),
          )
        : ctx.scope;
    try {
      return await fetch(request.url.href, requestInit(ctx, init, request, head.signal, failure));
    } catch (error) {
      throw failure.error ?? error;
    } finally {
      if (head !== ctx.scope) head.stop();
    }
  }

  async function fetchRequest(ctx: Context): Promise<HttpResponse> {
    const { method, url, body: requestBody } = ctx.request;
    let res: FetchResponse;
    try {
      const request =
        foreignFetch && requestBody instanceof FormData
          ? await withEncodedForm(ctx.request)
          : ctx.request;
      res = await send(ctx, request);
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
    const contentLength = responseHeaders.get('content-length');
    const wireBytes =
      contentLength !== null && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
    const mapError = (error: unknown) => mapFetchError(error, ctx);
    if (isDiscardedRedirect(ctx, status, responseHeaders.get('location'))) {
      // The redirect step throws this body away: released as it is, never limited or reported (a
      // body fetch fails to decode only ends the drain early).
      return createResponse({
        ...base,
        body: toNodeStream(body, mapError),
        discard: (unread) => discardStream(unread, wireBytes),
      });
    }
    try {
      // fetch has decoded the body already; the header still says how many codings were stacked.
      contentCodings(responseHeaders.get('content-encoding'));
    } catch (error) {
      cancel(body);
      throw withRequest(error, ctx);
    }

    const maxBytes = responseLimit(ctx, maxResponseBytes);
    const onProgress = ctx.onDownloadProgress;
    // Before decoding, content-length says nothing about the decoded size.
    const totalBytes = responseHeaders.has('content-encoding') ? undefined : wireBytes;
    if (
      ctx.readBody &&
      onProgress === undefined &&
      (maxBytes === undefined || (totalBytes !== undefined && totalBytes <= maxBytes))
    ) {
      // The fast path: a length within the limit (or none to count against), so fetch buffers the
      // body in one piece.
      let bytes: Buffer;
      try {
        bytes = Buffer.from(await res.arrayBuffer());
      } catch (error) {
        throw mapFetchError(error, ctx);
      }
      // An HTTP/2 stream reset mid-body (NO_ERROR, CANCEL) ends it early and silently in fetch.
      if (totalBytes !== undefined && bytes.byteLength !== totalBytes) {
        throw lengthMismatch(totalBytes, bytes.byteLength, { method, url, attempt: ctx.attempt });
      }
      await connectionReleased();
      return createResponse({ ...base, body: bytes });
    }
    if (maxBytes !== undefined && totalBytes !== undefined && totalBytes > maxBytes) {
      // Known too large before a byte of it is read: do not download it.
      cancel(body);
      throw new ResponseTooLargeError(maxBytes, { method, url, attempt: ctx.attempt });
    }
    const limits = {
      maxBytes,
      onProgress,
      totalBytes,
      expectedBytes: totalBytes,
      method,
      url: url.href,
    };
    if (ctx.readBody) {
      try {
        // A web ReadableStream is async-iterable; leaving the loop early cancels fetch's body.
        const bytes = await readBody(body as unknown as AsyncIterable<Uint8Array>, limits);
        await connectionReleased();
        return createResponse({ ...base, body: bytes });
      } catch (error) {
        cancel(body);
        throw mapFetchError(error, ctx);
      }
    }
    const stream = limitStream(toNodeStream(body, mapError), limits);
    // A body nobody reads may still fail (reset, abort); that must never be an unhandled 'error'.
    stream.on('error', () => {});
    return createResponse({
      ...base,
      body: stream,
      discard: (unread) => discardStream(unread, wireBytes),
    });
  }

  return defineTransport<{ fetch: FetchFunction }>(fetchRequest, {
    name: 'fetch',
    extra: { fetch },
  });
}
