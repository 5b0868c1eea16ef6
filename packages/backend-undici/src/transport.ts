// undiciTransport(): the terminal of a stack, sending each request with undici's request() on a
// keep-alive Agent. It never follows redirects (core does) and decodes and limits bodies like core says.
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  bodyLength,
  ConfigError,
  type Context,
  contentCodings,
  createResponse,
  decodeStream,
  defineTransport,
  type HttpResponse,
  limitStream,
  NEVER_ABORT,
  ResponseTooLargeError,
  type ResponseInit,
  readBody,
  type Transport,
  withProgress,
} from '@extapi/core';
import { Agent, type Dispatcher, FormData as UndiciFormData } from 'undici';
import { mapUndiciError, type UndiciTimeouts } from './map-error.js';

/** Options of {@link undiciTransport}. Every field is optional; `undefined` means the default. */
export interface UndiciTransportOptions {
  /**
   * An undici dispatcher (Agent, Pool, ProxyAgent, MockAgent…) to send through instead of the
   * transport's own Agent. It is used as given and never closed by the transport; the Agent options
   * (`connections`, `pipelining`, `keepAliveTimeoutMs`, `connectTimeoutMs`) cannot be combined with it.
   * @default a keep-alive Agent owned (and closed) by the transport
   */
  dispatcher?: Dispatcher;
  /** Most connections per origin. @default Infinity (no limit) */
  connections?: number;
  /** Requests pipelined on one connection; `1` is plain keep-alive, `0` disables keep-alive. @default 1 */
  pipelining?: number;
  /** How long an idle connection stays open for reuse, in ms. @default 4000 */
  keepAliveTimeoutMs?: number;
  /** Deadline to establish a connection (TCP and TLS), in ms; past it, `TimeoutError` phase `connect`. @default 10000 */
  connectTimeoutMs?: number;
  /** Deadline for the response headers, in ms; `0` disables it. Past it, `TimeoutError` phase `headers`. @default 300000 */
  headersTimeoutMs?: number;
  /** Longest pause between two body chunks, in ms; `0` disables it. Past it, `TimeoutError` phase `body`. @default 300000 */
  bodyTimeoutMs?: number;
  /** Fail with `ResponseTooLargeError` past this many decoded body bytes; a call's `maxResponseBytes` overrides it. @default Infinity */
  maxResponseBytes?: number;
}

/** The defaults of {@link UndiciTransportOptions} (undici's own, made explicit). */
export const DEFAULT_UNDICI_TRANSPORT_OPTIONS = {
  connections: Number.POSITIVE_INFINITY,
  pipelining: 1,
  keepAliveTimeoutMs: 4_000,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 300_000,
  bodyTimeoutMs: 300_000,
  maxResponseBytes: Number.POSITIVE_INFINITY,
} as const;

/** A transport on undici; `dispatcher` is the Agent (or the dispatcher passed in). */
export type UndiciTransport = Transport & { readonly dispatcher: Dispatcher };

interface ResolvedUndiciOptions extends UndiciTimeouts {
  dispatcher: Dispatcher | undefined;
  connections: number;
  pipelining: number;
  keepAliveTimeoutMs: number;
  maxResponseBytes: number | undefined;
}

const AGENT_OPTIONS = [
  'connections',
  'pipelining',
  'keepAliveTimeoutMs',
  'connectTimeoutMs',
] as const;

function integer(
  options: UndiciTransportOptions,
  name: keyof UndiciTransportOptions,
  min: number,
  infinite = false,
): number {
  const value = options[name];
  if (value === undefined)
    return DEFAULT_UNDICI_TRANSPORT_OPTIONS[name as keyof typeof DEFAULT_UNDICI_TRANSPORT_OPTIONS];
  if (
    typeof value !== 'number' ||
    value < min ||
    !(Number.isSafeInteger(value) || (infinite && value === Infinity))
  ) {
    throw new ConfigError(
      name,
      value,
      `expected an integer >= ${min}${infinite ? ' or Infinity' : ''}`,
    );
  }
  return value;
}

/** Validates and fills {@link UndiciTransportOptions} once, at creation. */
function resolveUndiciOptions(options: UndiciTransportOptions = {}): ResolvedUndiciOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('options', options, 'expected an object');
  }
  const { dispatcher } = options;
  if (dispatcher !== undefined) {
    if (
      dispatcher === null ||
      typeof dispatcher !== 'object' ||
      typeof dispatcher.request !== 'function'
    ) {
      throw new ConfigError(
        'dispatcher',
        dispatcher,
        'expected an undici Dispatcher (Agent, Pool, ProxyAgent…)',
      );
    }
    const conflict = AGENT_OPTIONS.find((name) => options[name] !== undefined);
    if (conflict) {
      throw new ConfigError(
        conflict,
        options[conflict],
        'configures the transport-owned Agent; set it on the dispatcher you pass instead',
      );
    }
  }
  const maxResponseBytes = integer(options, 'maxResponseBytes', 0, true);
  return {
    dispatcher,
    connections: integer(options, 'connections', 1, true),
    pipelining: integer(options, 'pipelining', 0),
    keepAliveTimeoutMs: integer(options, 'keepAliveTimeoutMs', 1),
    connectTimeoutMs: integer(options, 'connectTimeoutMs', 0),
    headersTimeoutMs: integer(options, 'headersTimeoutMs', 0),
    bodyTimeoutMs: integer(options, 'bodyTimeoutMs', 0),
    maxResponseBytes: maxResponseBytes === Infinity ? undefined : maxResponseBytes,
  };
}

// Bodies up to this size are read to the end on discard() so the connection is reused; larger or
// endless ones are destroyed, which costs a new connection but never a long download.
const DRAIN_LIMIT = 64 * 1024;
// A small body whose server stalls is not waited for until bodyTimeoutMs: it is destroyed after this.
const DRAIN_TIMEOUT_MS = 1_000;

const noop = () => {};

function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || status < 200;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const value = raw[name];
    if (typeof value === 'string') headers.append(name, value);
    else if (value !== undefined) for (const item of value) headers.append(name, item);
  }
  return headers;
}

function contentLength(raw: Record<string, string | string[] | undefined>): number | undefined {
  const value = raw['content-length'];
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * The undici transport: sends each request with `request()` on a keep-alive undici `Agent` that it
 * owns and closes on `client.close()` (a `dispatcher` passed in is used and never closed). Redirects
 * come back to core, which follows them; `gzip`, `deflate` and `br` bodies are decoded and counted
 * against `maxResponseBytes`. An unread body (`readBody: false`) dropped with `discard()` is drained
 * when small and destroyed when large. The Agent is shared by every call of every client built on
 * this transport; reach it as `client.transport.dispatcher`.
 *
 * Options (all optional): `dispatcher`, `connections` (Infinity), `pipelining` (1),
 * `keepAliveTimeoutMs` (4000), `connectTimeoutMs` (10000), `headersTimeoutMs` (300000),
 * `bodyTimeoutMs` (300000), `maxResponseBytes` (Infinity). Invalid values throw `ConfigError`.
 * @example
 * import { createClient } from '@extapi/core';
 * import { undiciTransport } from '@extapi/backend-undici';
 *
 * const client = createClient([undiciTransport({ connections: 50, maxResponseBytes: 10 * 1024 * 1024 })], {
 *   baseUrl: 'https://api.partner.example/v1',
 * });
 * const res = await client.get('/items/42');
 * console.log(res.status, await res.json());
 * await client.close();
 */
export function undiciTransport(options?: UndiciTransportOptions): UndiciTransport {
  const resolved = resolveUndiciOptions(options);
  const owned = resolved.dispatcher === undefined;
  const dispatcher: Dispatcher =
    resolved.dispatcher ??
    new Agent({
      connections: resolved.connections === Infinity ? null : resolved.connections,
      pipelining: resolved.pipelining,
      keepAliveTimeout: resolved.keepAliveTimeoutMs,
      connect: { timeout: resolved.connectTimeoutMs },
      headersTimeout: resolved.headersTimeoutMs,
      bodyTimeout: resolved.bodyTimeoutMs,
    });
  // With a dispatcher passed in, the timeouts the user gave travel with each request instead.
  const perRequestTimeouts =
    !owned && (options?.headersTimeoutMs !== undefined || options?.bodyTimeoutMs !== undefined);

  async function undici(ctx: Context): Promise<HttpResponse> {
    const { method, url, headers, body } = ctx.request;
    const request: Dispatcher.RequestOptions = {
      origin: url.origin,
      path: url.pathname + url.search,
      method: method as Dispatcher.HttpMethod,
      // undici iterates a WHATWG Headers as [name, value] pairs itself: no conversion here.
      headers: headers as unknown as Dispatcher.RequestOptions['headers'],
    };
    // A signal that can never abort is not worth undici's listener bookkeeping.
    if (ctx.signal !== NEVER_ABORT) request.signal = ctx.signal;
    if (body instanceof FormData && !(body instanceof UndiciFormData)) {
      // undici 7 encodes only its own FormData class (Node 20's global one comes from its bundled
      // undici 6), so the global one is encoded here, with a length, and its boundary in content-type.
      const encoded = new Response(body);
      const copy = new Headers(headers);
      if (!copy.has('content-type')) copy.set('content-type', encoded.headers.get('content-type')!);
      request.headers = copy as unknown as Dispatcher.RequestOptions['headers'];
      request.body = requestBody(ctx, Buffer.from(await encoded.arrayBuffer()));
    } else if (body !== undefined) request.body = requestBody(ctx, body);
    if (perRequestTimeouts) {
      request.headersTimeout = resolved.headersTimeoutMs;
      request.bodyTimeout = resolved.bodyTimeoutMs;
    }

    let data: Dispatcher.ResponseData;
    try {
      data = await dispatcher.request(request);
    } catch (error) {
      throw mapUndiciError(error, ctx, resolved);
    }
    const { statusCode: status, body: stream } = data;
    const raw = data.headers as Record<string, string | string[] | undefined>;
    const init: ResponseInit = {
      status,
      statusText: (data as { statusText?: string }).statusText || STATUS_CODES[status] || '',
      // Built on first access: most calls never look at the response headers.
      headers: () => toHeaders(raw),
      url: url.href,
      method,
      raw: data,
      body: null,
    };
    if (hasNoBody(method, status)) {
      // undici ends these bodies itself; dump() just settles the stream without waiting on anything.
      stream.dump().catch(noop);
      return createResponse(init);
    }

    const maxBytes = ctx.maxResponseBytes ?? resolved.maxResponseBytes;
    const onProgress = ctx.onDownloadProgress;
    let codings: string[] | undefined;
    try {
      const encoding = raw['content-encoding'];
      codings = contentCodings(Array.isArray(encoding) ? encoding.join(', ') : (encoding ?? null));
    } catch (error) {
      stream.on('error', noop).destroy();
      throw error;
    }
    if (ctx.readBody && !codings && maxBytes === undefined && !onProgress) {
      // The fast path: nothing to decode, count or report, so undici collects the chunks itself.
      try {
        init.body = await stream.bytes();
      } catch (error) {
        throw mapUndiciError(error, ctx, resolved);
      }
      return createResponse(init);
    }

    const length = contentLength(raw);
    if (maxBytes !== undefined && !codings && length !== undefined && length > maxBytes) {
      // Known too large before a byte of it is read: do not download it.
      stream.on('error', noop).destroy();
      throw new ResponseTooLargeError(maxBytes, { method, url, attempt: ctx.attempt });
    }

    if (ctx.readBody) {
      try {
        init.body = await readBody(codings ? decodeStream(stream, codings) : stream, {
          maxBytes,
          totalBytes: codings ? undefined : length,
          onProgress,
          method,
          url: url.href,
        });
        return createResponse(init);
      } catch (error) {
        stream.on('error', noop).destroy();
        throw mapUndiciError(error, ctx, resolved);
      }
    }

    let out: Readable = codings ? decodeStream(stream, codings) : stream;
    if (maxBytes !== undefined || onProgress) {
      out = limitStream(out, {
        maxBytes,
        totalBytes: codings ? undefined : length,
        onProgress,
        method,
        url: url.href,
      });
    }
    // A body nobody reads may still fail (reset, abort); that must never be an unhandled 'error'.
    out.on('error', noop);
    init.body = out;
    init.discard = out === stream ? dumpBody : (decoded) => drainOrDestroy(decoded, length);
    return createResponse(init);
  }

  return defineTransport(undici, {
    name: 'undici',
    close: owned ? () => dispatcher.close() : () => Promise.resolve(),
    extra: { dispatcher },
  });
}

/** Releases an undecoded undici body: read to the end when small and prompt, else destroyed. */
function dumpBody(stream: Readable): Promise<void> {
  return (stream as Dispatcher.ResponseData['body'])
    .dump({ limit: DRAIN_LIMIT, signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) })
    .then(noop, noop);
}

/** Releases a decoded or limited body: drained when the wire body is small and known, else destroyed. */
function drainOrDestroy(stream: Readable, length: number | undefined): Promise<void> {
  if (length === undefined || length > DRAIN_LIMIT) {
    stream.destroy();
    return Promise.resolve();
  }
  const timer = setTimeout(() => stream.destroy(), DRAIN_TIMEOUT_MS);
  stream.resume();
  return finished(stream)
    .then(noop, noop)
    .finally(() => clearTimeout(timer));
}

/** The body in a form undici sends as it is; only bodies it cannot take are converted. */
function requestBody(
  ctx: Context,
  body: NonNullable<Context['request']['body']>,
): Dispatcher.RequestOptions['body'] {
  // strings, bytes, Readable, FormData, Blob and (async) iterables, web ReadableStream included, go as they are.
  let out = (
    typeof body === 'string' && ctx.onUploadProgress
      ? Buffer.from(body)
      : body instanceof ArrayBuffer
        ? Buffer.from(body)
        : body
  ) as Dispatcher.RequestOptions['body'];
  if (ctx.onUploadProgress && !(body instanceof FormData)) {
    // Progress needs to see each chunk; FormData is encoded by undici itself, so it reports none.
    const total = bodyLength(body);
    const source =
      typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer
        ? [out as Uint8Array]
        : body instanceof Blob
          ? (body.stream() as unknown as AsyncIterable<Uint8Array>)
          : (out as AsyncIterable<Uint8Array>);
    out = withProgress(source, total, ctx.onUploadProgress) as unknown as Readable;
  }
  return out;
}
