// The Web Streams pieces of the body policy, for runtimes without Node (browsers, workers): the same
// operations as node-streams.ts on ReadableStream, with DecompressionStream for the codings.
import {
  type BodyLimitOptions,
  DRAIN_MAX_BYTES,
  DRAIN_TIMEOUT_MS,
  isWebStream,
  lengthMismatch,
  progressReporter,
  type RawBody,
} from './body.js';
import type { BodyStreams } from './wire.js';
import { ExtapiError, ResponseTooLargeError } from './errors.js';

type Bytes = ReadableStream<Uint8Array>;
const noop = () => {};
// Pulled only when read: a body nobody reads is not downloaded into a queue.
const ON_READ = { highWaterMark: 0 };

/**
 * A web stream over a raw body whose errors go through `mapError`; cancelling it cancels the body.
 * An async iterable (a Node `Readable` when this adapter runs on Node) is read the same way.
 * @example
 * const body = fromRawBody(res.body, (error) => mapFetchError(error, ctx));
 */
export function fromRawBody(body: RawBody, mapError: (error: unknown) => unknown): Bytes {
  const iterator = isWebStream(body) ? undefined : body[Symbol.asyncIterator]();
  const reader = isWebStream(body) ? body.getReader() : undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = reader ? await reader.read() : await iterator!.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(mapError(error));
        }
      },
      async cancel(reason) {
        if (reader) await reader.cancel(reason).catch(noop);
        else await iterator!.return?.().catch(noop);
      },
    },
    ON_READ,
  );
}

// deflate as sent by servers is sometimes raw DEFLATE without the zlib wrapper; the first byte tells
// (0x78 is the zlib header), as in node-streams.ts.
function inflate(): TransformStream<Uint8Array, Uint8Array> {
  let writer: WritableStreamDefaultWriter<BufferSource> | undefined;
  let pump: Promise<void> | undefined;
  return new TransformStream({
    async transform(chunk, controller) {
      if (!writer) {
        const inner = new DecompressionStream(
          (chunk[0]! & 0x0f) === 0x08 ? 'deflate' : 'deflate-raw',
        );
        writer = inner.writable.getWriter();
        pump = inner.readable.pipeTo(new WritableStream({ write: (c) => controller.enqueue(c) }));
        // Its failure is seen by the next write or by flush; never an unhandled rejection.
        pump.catch(noop);
      }
      await writer!.write(chunk as Uint8Array<ArrayBuffer>);
    },
    async flush() {
      if (!writer) return;
      await writer.close();
      await pump;
    },
  });
}

/** A decoder for each of body.ts's DECODABLE_CODINGS; br needs a runtime whose DecompressionStream has 'brotli'. */
function decoder(coding: string): ReadableWritablePair<Uint8Array, Uint8Array> {
  if (coding === 'deflate') return inflate();
  const format = coding === 'br' ? 'brotli' : 'gzip';
  try {
    return new DecompressionStream(format as CompressionFormat) as ReadableWritablePair<
      Uint8Array,
      Uint8Array
    >;
  } catch (cause) {
    throw new ExtapiError(
      `This runtime cannot decode content-encoding ${coding} (DecompressionStream has no '${format}')`,
      'ERR_CONTENT_ENCODING',
      { cause },
    );
  }
}

/**
 * Pipes `source` through DecompressionStreams for `codings` (see `contentCodings`). Cancelling the
 * decoded end cancels `source`.
 * @example
 * const text = await new Response(decodeWebStream(body, ['gzip'])).text();
 */
export function decodeWebStream(source: Bytes, codings: string[]): Bytes {
  let stream = source;
  for (const coding of codings) stream = stream.pipeThrough(decoder(coding));
  return stream;
}

/**
 * A stream that passes `source` through, counting bytes: past `maxBytes` it errors with
 * {@link ResponseTooLargeError} and cancels `source`; off `expectedBytes` at the end it errors with
 * `ERR_CONTENT_LENGTH_MISMATCH`. Reports progress and maps `source`'s errors like `limitStream`.
 * @example
 * const limited = limitWebStream(body, { maxBytes: 1024 });
 */
export function limitWebStream(source: Bytes, options: BodyLimitOptions): Bytes {
  const { maxBytes, expectedBytes, mapError } = options;
  const report = progressReporter(options);
  if (maxBytes === undefined && !report && expectedBytes === undefined && !mapError) return source;
  const info = { method: options.method, url: options.url };
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let size = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Taken on the first read, not now: an unread body is not pulled.
        reader ??= source.getReader();
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          controller.error(mapError ? mapError(error) : error);
          return;
        }
        if (result.done) {
          if (expectedBytes !== undefined && size !== expectedBytes) {
            controller.error(lengthMismatch(expectedBytes, size, info));
            return;
          }
          report?.(size, true);
          controller.close();
          return;
        }
        size += result.value.byteLength;
        if (maxBytes !== undefined && size > maxBytes) {
          const error = new ResponseTooLargeError(maxBytes, info);
          reader.cancel(error).catch(noop);
          controller.error(error);
          return;
        }
        report?.(size, false);
        controller.enqueue(result.value);
      },
      async cancel(reason) {
        await (reader ? reader.cancel(reason) : source.cancel(reason)).catch(noop);
      },
    },
    ON_READ,
  );
}

/**
 * Releases an unread web body, the policy of `discardStream`: a small one (at most
 * {@link DRAIN_MAX_BYTES}, within {@link DRAIN_TIMEOUT_MS}) is read to its end so its connection
 * can be reused, a large, endless or stalled one is cancelled. Never rejects.
 * @example
 * createResponse({ ...init, body, discard: (unread) => discardWebStream(unread, length) });
 */
export async function discardWebStream(
  stream: Bytes,
  wireBytes: number | undefined,
): Promise<void> {
  if (stream.locked) return;
  if (wireBytes !== undefined && wireBytes > DRAIN_MAX_BYTES) {
    await stream.cancel().catch(noop);
    return;
  }
  const reader = stream.getReader();
  const timer = setTimeout(() => reader.cancel().catch(noop), DRAIN_TIMEOUT_MS);
  try {
    let drained = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      drained += value.byteLength;
      if (drained > DRAIN_MAX_BYTES) {
        await reader.cancel().catch(noop);
        return;
      }
    }
  } catch {
    // A body failing while drained is released all the same.
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The body policy's stream operations on Web Streams (ReadableStream, DecompressionStream): the
 * adapter of the build for browsers and workers, where a streamed `HttpResponse.body` is a web
 * `ReadableStream`.
 * @example
 * const respond = bodyPolicy({ maxResponseBytes: undefined, mapError }, webStreams);
 */
export const webStreams: BodyStreams<Bytes> = {
  from: fromRawBody,
  decode: decodeWebStream,
  limit: limitWebStream,
  discard: discardWebStream,
  // A web stream has no error event: a failure nobody reads is never unhandled.
  unhandled: (stream) => stream,
};
