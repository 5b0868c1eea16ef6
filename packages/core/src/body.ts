// Request and response bodies: which request bodies can be replayed, their length, and reading
// and decoding response streams with a byte limit. Shared by both transports so they behave alike.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
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
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return body.byteLength;
  if (body instanceof Blob) return body.size;
  return undefined;
}

/** Content codings both transports decode, innermost last as in the header. */
const DECODERS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  'x-gzip': () => zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  deflate: () => createInflate(),
  br: () => zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
};

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
  if (codings.length === 0 || codings.some((c) => !(c in DECODERS))) return undefined;
  return codings.reverse();
}

/** Pipes `source` through the decoders for `codings` (see {@link contentCodings}). */
export function decodeStream(source: Readable, codings: string[]): Readable {
  let stream = source;
  for (const coding of codings) {
    const decoder = DECODERS[coding]!();
    stream.on('error', (error) => decoder.destroy(error));
    stream = stream.pipe(decoder);
  }
  // Destroying the decoded end must also release the socket underneath.
  stream.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  return stream;
}

// deflate as sent by servers is sometimes raw DEFLATE without the zlib wrapper; look at the
// first byte to tell (0x78 is the zlib header), as curl and browsers do.
function createInflate(): Transform {
  let inner: Transform | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      if (!inner) {
        inner = (chunk[0]! & 0x0f) === 0x08 ? zlib.createInflate() : zlib.createInflateRaw();
        inner.on('data', (data) => this.push(data));
        inner.on('error', (error) => this.destroy(error));
      }
      inner.write(chunk, callback);
    },
    flush(callback) {
      if (!inner) return callback();
      inner.once('end', () => callback());
      inner.end();
    },
  });
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

function progressReporter(options: BodyLimitOptions): ProgressReport | undefined {
  return options.onProgress && createProgressReporter(options.onProgress, options.totalBytes);
}

/**
 * Reads a whole stream into one Buffer, failing with {@link ResponseTooLargeError} past `maxBytes`
 * (the stream is destroyed then, so the socket is not reused half-read).
 */
export async function readBody(
  source: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void },
  options: BodyLimitOptions = {},
): Promise<Buffer> {
  const { maxBytes } = options;
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
  if (chunks.length === 1) {
    const only = chunks[0]!;
    return Buffer.isBuffer(only)
      ? only
      : Buffer.from(only.buffer, only.byteOffset, only.byteLength);
  }
  return Buffer.concat(chunks, size);
}

/**
 * A stream that passes `source` through, counting bytes: past `maxBytes` it errors with
 * {@link ResponseTooLargeError} and destroys `source`. Reports progress like {@link readBody}.
 */
export function limitStream(source: Readable, options: BodyLimitOptions): Readable {
  const { maxBytes, expectedBytes, mapError } = options;
  const report = progressReporter(options);
  if (maxBytes === undefined && !report && expectedBytes === undefined && !mapError) return source;
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      size += chunk.byteLength;
      if (maxBytes !== undefined && size > maxBytes) {
        callback(new ResponseTooLargeError(maxBytes, { method: options.method, url: options.url }));
        return;
      }
      report?.(size, false);
      callback(null, chunk);
    },
    flush(callback) {
      if (expectedBytes !== undefined && size !== expectedBytes) {
        callback(lengthMismatch(expectedBytes, size, { method: options.method, url: options.url }));
        return;
      }
      report?.(size, true);
      callback();
    },
  });
  source.on('error', (error) => counter.destroy((mapError ? mapError(error) : error) as Error));
  counter.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  // Piped on the first read, not now: a body nobody reads is not downloaded into the buffers (a
  // discarded large body is destroyed without having pulled a byte more).
  const read = counter._read.bind(counter);
  counter._read = (size) => {
    counter._read = read;
    source.pipe(counter);
    read(size);
  };
  return counter;
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

/**
 * For transports: releases an unread response body, the policy of both backends. Destroying a body
 * before its end costs its connection, so a small one is drained instead and its connection goes
 * back to the pool; a large, endless or stalled one is destroyed (after at most
 * {@link DRAIN_MAX_BYTES} bytes or {@link DRAIN_TIMEOUT_MS}). `contentLength` is the wire length when
 * known. Never rejects.
 * @example
 * createResponse({ ...init, body: stream, discard: (unread) => discardStream(unread, length) });
 */
export function discardStream(stream: Readable, contentLength: number | undefined): Promise<void> {
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

/** Turns any request body into a Node `Readable` (for transports that need one). */
export function toReadable(body: RequestBody): Readable {
  if (body instanceof Readable) return body;
  if (typeof body === 'string' || body instanceof Uint8Array) return Readable.from([body]);
  if (body instanceof ArrayBuffer) return Readable.from([new Uint8Array(body)]);
  if (body instanceof Blob) return Readable.fromWeb(body.stream() as never);
  if (typeof (body as ReadableStream).getReader === 'function') {
    return Readable.fromWeb(body as never);
  }
  return Readable.from(body as AsyncIterable<Uint8Array>);
}
