// The Node pieces of the body policy: decoding with node:zlib, limiting, draining and adapting
// bodies with node:stream. body-policy.ts reaches them through `nodeStreams` only, so another adapter can slot in.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import {
  type BodyLimitOptions,
  DRAIN_MAX_BYTES,
  DRAIN_TIMEOUT_MS,
  isWebStream,
  lengthMismatch,
  progressReporter,
} from './body.js';
import type { BodyStreams } from './wire.js';
import { ResponseTooLargeError } from './errors.js';
import type { RequestBody } from './types.js';

/** A decoder for each of body.ts's DECODABLE_CODINGS. */
const DECODERS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  'x-gzip': () => zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  deflate: () => createInflate(),
  br: () => zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
};

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

/**
 * A Node Readable over a web ReadableStream (fetch's body). Written by hand rather than with
 * Readable.fromWeb so that errors (fetch's `terminated`, an abort) go through `mapError` like every
 * other transport error, and destroying the Readable cancels the web stream, which releases or
 * closes its connection.
 * @example
 * const body = fromWebStream(res.body, (error) => mapFetchError(error, ctx));
 */
export function fromWebStream(
  body: ReadableStream<Uint8Array>,
  mapError: (error: unknown) => unknown,
): Readable {
  const reader = body.getReader();
  return new Readable({
    read() {
      reader.read().then(
        ({ done, value }) => {
          // undici hands a connection back to its pool in a setImmediate after the body's end:
          // ending one turn later lets a request made on 'end' reuse it.
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
 * The body policy's stream operations on Node streams (node:stream, node:zlib). A response body
 * streamed to the caller is a Node `Readable` (`HttpResponse.body`).
 * @example
 * const decoded = nodeStreams.decode(nodeStreams.from(res.body, mapError), ['gzip']);
 */
export const nodeStreams: BodyStreams<Readable> = {
  from: (body, mapError) => (isWebStream(body) ? fromWebStream(body, mapError) : body),
  decode: decodeStream,
  limit: limitStream,
  discard: discardStream,
  unhandled: (stream) => stream.on('error', noop),
};

function noop() {}
