// Request and response bodies, the rules that need no stream library: replayable bodies, lengths,
// content codings, the byte limit, reading a body whole. node-streams.ts holds the Node stream pieces.
import type { BodyBytes, NodeStream } from '@extapi/core/platform-types';
import {
  ConfigError,
  ExtapiError,
  type ExtapiErrorOptions,
  ResponseTooLargeError,
  TransportError,
} from './errors.js';
import { createProgressReporter, type ProgressReport } from './progress.js';
import type { Progress, RequestBody } from './types.js';

/**
 * A response body as a transport receives it: a Node `Readable` or a web `ReadableStream` (only
 * the latter in the web build's types, where {@link NodeStream} is `never`).
 * @example
 * const raw: RawBody = res.body; // undici: a Readable; fetch: a web ReadableStream
 */
export type RawBody = NodeStream | ReadableStream<Uint8Array>;

/**
 * Whether a body is a web `ReadableStream` (duck-typed: streams of another realm count too).
 * @example
 * const node = isWebStream(body) ? Readable.fromWeb(body) : body;
 */
export function isWebStream(body: unknown): body is ReadableStream<Uint8Array> {
  return typeof (body as ReadableStream | undefined)?.getReader === 'function';
}

/**
 * A web ReadableStream as an async iterable (Node's is one already; Safari's is not). Leaving the
 * loop early cancels the stream.
 * @example
 * for await (const chunk of webChunks(res.body)) size += chunk.byteLength;
 */
export async function* webChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const result = await reader.read();
      if (result.done) {
        done = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (done) reader.releaseLock();
    else reader.cancel().catch(() => {});
  }
}

// Node's Buffer where there is one (it is what Node callers get today, and its concat is the
// fastest); plain Uint8Array and TextEncoder in browsers and workers.
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const encoder = new TextEncoder();

/**
 * The UTF-8 bytes of a string: a Buffer on Node, a Uint8Array elsewhere.
 * @example
 * utf8('héllo').byteLength; // 6
 */
export function utf8(text: string): Uint8Array {
  return NodeBuffer ? NodeBuffer.from(text) : encoder.encode(text);
}

/**
 * Base64 of a string's UTF-8 bytes (Basic credentials), without Node's Buffer where there is none.
 * @example
 * base64('user:pass'); // 'dXNlcjpwYXNz'
 */
export function base64(text: string): string {
  if (NodeBuffer) return NodeBuffer.from(text).toString('base64');
  let binary = '';
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** One buffer of `chunks` (a Buffer on Node, a Uint8Array elsewhere). */
function concat(chunks: Uint8Array[], size: number): Buffer {
  if (NodeBuffer) return NodeBuffer.concat(chunks, size);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out as Buffer;
}

/**
 * Whether a request body can be sent again (retry, 307/308 redirect).
 * Strings, bytes, forms and Blobs can; streams and async iterables are consumed by the first send.
 */
export function isReplayableBody(body: RequestBody | undefined | null): boolean {
  if (body === undefined || body === null) return true;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer)
    return true;
  if (body instanceof URLSearchParams || body instanceof Blob || body instanceof FormData)
    return true;
  return false;
}

/** The byte length of a body when it is known without reading it, else `undefined`. */
export function bodyLength(body: RequestBody | undefined | null): number | undefined {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string')
    return NodeBuffer ? NodeBuffer.byteLength(body) : utf8(body).byteLength;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return body.byteLength;
  if (body instanceof Blob) return body.size;
  return undefined;
}

/**
 * The content codings core decodes (node-streams.ts has a decoder for each).
 * @example
 * DECODABLE_CODINGS.has('br'); // true
 */
export const DECODABLE_CODINGS: ReadonlySet<string> = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/** At most this many stacked codings are decoded; more is refused (undici CVE-2026-22036). */
export const MAX_CONTENT_CODINGS = 5;

/**
 * The codings of a `content-encoding` header, in the order to undo them, or `undefined` when
 * there is nothing to decode. Unknown codings leave the body as it is, as browsers do.
 * Throws when more than {@link MAX_CONTENT_CODINGS} codings are stacked.
 */
export function contentCodings(header: string | null): string[] | undefined {
  if (header === null || header === '' || header === 'identity') return undefined;
  const codings = header
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length > MAX_CONTENT_CODINGS) {
    throw new ExtapiError(
      `Refusing ${codings.length} stacked content codings (at most ${MAX_CONTENT_CODINGS})`,
      'ERR_CONTENT_ENCODING',
    );
  }
  if (codings.length === 0 || codings.some((c) => !DECODABLE_CODINGS.has(c))) return undefined;
  return codings.reverse();
}

/**
 * The `maxResponseBytes` of a body read whole (`readBody: true`) when neither the call nor the
 * transport sets one: 32 MiB, so that a hostile or broken server (a compressed bomb) cannot fill
 * the heap. A streamed body (`readBody: false`) has no default limit.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * The byte limit for one response body, the same rule in every transport: the call's
 * `maxResponseBytes`, else the transport's, else {@link DEFAULT_MAX_BUFFERED_BYTES} for a buffered
 * body and none for a stream. `Infinity` (call or transport) means no limit; `undefined` is returned then.
 * @example
 * const maxBytes = responseLimit(ctx, options.maxResponseBytes); // 33554432 for a plain buffered call
 */
export function responseLimit(
  ctx: { readonly readBody: boolean; readonly maxResponseBytes?: number | undefined },
  transportLimit: number | undefined,
): number | undefined {
  const limit =
    ctx.maxResponseBytes ??
    transportLimit ??
    (ctx.readBody ? DEFAULT_MAX_BUFFERED_BYTES : Number.POSITIVE_INFINITY);
  return limit === Number.POSITIVE_INFINITY ? undefined : limit;
}

/**
 * The error for a response body that ended before (or after) its `content-length`: a connection or
 * HTTP/2 stream cut mid-body. undici reports the HTTP/1.1 case itself with the same code.
 * @example
 * throw lengthMismatch(1000, 100, { method: 'GET', url });
 */
export function lengthMismatch(
  expected: number,
  received: number,
  info: ExtapiErrorOptions = {},
): TransportError {
  return new TransportError(
    `Response body ended after ${received} of ${expected} bytes (content-length)`,
    'ERR_CONTENT_LENGTH_MISMATCH',
    info,
  );
}

/** Options for {@link readBody} and {@link limitStream}. */
export interface BodyLimitOptions {
  /** Fail past this many (decoded) bytes. */
  maxBytes?: number | undefined;
  /**
   * The exact number of bytes the body must have (its `content-length` when not encoded): fewer or
   * more at the end fails with `ERR_CONTENT_LENGTH_MISMATCH` (an HTTP/2 stream reset mid-body
   * otherwise ends the body silently).
   */
  expectedBytes?: number | undefined;
  /** Maps an error of the source stream (the backend's own) to the one the reader sees. */
  mapError?: ((error: unknown) => unknown) | undefined;
  /** The expected total, for progress (`content-length` when not encoded). */
  totalBytes?: number | undefined;
  /** Called at most every 50 ms while reading, and once at the end. */
  onProgress?: ((progress: Progress) => void) | undefined;
  /** For the error message of {@link ResponseTooLargeError}. */
  method?: string;
  /** For the error message of {@link ResponseTooLargeError}. */
  url?: string;
}

/**
 * The progress reporter of one body read with `options`, or `undefined` when nobody listens.
 * @example
 * const report = progressReporter({ onProgress: console.log, totalBytes: 10 });
 * report?.(10, true);
 */
export function progressReporter(options: BodyLimitOptions): ProgressReport | undefined {
  return options.onProgress && createProgressReporter(options.onProgress, options.totalBytes);
}

/**
 * Reads a whole stream (a Node `Readable`, a web `ReadableStream`, any async iterable) into one
 * Buffer (a Uint8Array where Node's Buffer does not exist), failing with
 * {@link ResponseTooLargeError} past `maxBytes` (the stream is destroyed then, so the socket is not
 * reused half-read).
 */
export async function readBody(
  body: RawBody | (AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void }),
  options: BodyLimitOptions = {},
): Promise<BodyBytes> {
  const { maxBytes } = options;
  // Node's web streams are async iterables already; Safari's are not.
  const source: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void } =
    isWebStream(body) && !(Symbol.asyncIterator in body)
      ? webChunks(body)
      : (body as AsyncIterable<Uint8Array>);
  const report = progressReporter(options);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (maxBytes !== undefined && size > maxBytes) {
      const error = new ResponseTooLargeError(maxBytes, {
        method: options.method,
        url: options.url,
      });
      source.destroy?.(error);
      throw error;
    }
    chunks.push(chunk);
    report?.(size, false);
  }
  if (options.expectedBytes !== undefined && size !== options.expectedBytes) {
    throw lengthMismatch(options.expectedBytes, size, { method: options.method, url: options.url });
  }
  report?.(size, true);
  // Without Node, even one chunk is copied: it may come from another realm (a fetch handed in from
  // outside an iframe or vm context), where `instanceof Uint8Array` fails; the copy is this realm's.
  if (chunks.length === 1 && NodeBuffer) {
    const only = chunks[0]!;
    return NodeBuffer.isBuffer(only)
      ? only
      : NodeBuffer.from(only.buffer, only.byteOffset, only.byteLength);
  }
  return concat(chunks, size);
}

/**
 * A stream request body held to its declared `content-length`: the chunk that completes the
 * declared length is held back until the source has ended, so a body longer than declared fails
 * before the server has received a complete request (which it would otherwise answer, while the
 * rest of the body poisons the connection). A shorter body fails at its end, incomplete as well.
 * @example
 * request.body = checkedLength(stream, Number(headers.get('content-length')));
 */
export async function* checkedLength(
  source: AsyncIterable<Uint8Array>,
  declared: number,
): AsyncGenerator<Uint8Array> {
  let sent = 0;
  let held: Uint8Array | undefined;
  const mismatch = (more: boolean) =>
    new ConfigError(
      'headers.content-length',
      String(declared),
      `conflicts with the stream body (${more ? 'more' : `only ${sent}`} bytes); the request was not completed`,
    );
  for await (const chunk of source) {
    if (chunk.byteLength === 0) continue;
    sent += chunk.byteLength;
    if (held !== undefined || sent > declared) throw mismatch(true);
    if (sent === declared) held = chunk;
    else yield chunk;
  }
  if (sent !== declared) throw mismatch(false);
  if (held !== undefined) yield held;
}

/** An unread body up to this size is read to its end on discard, so its connection is reused. */
export const DRAIN_MAX_BYTES = 64 * 1024;
/** A drain that takes longer (a stalled server) is cut short: the body is destroyed instead. */
export const DRAIN_TIMEOUT_MS = 1_000;
