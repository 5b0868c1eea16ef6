// The Web Streams adapter of the body policy (the build for browsers and workers), run on Node's web
// streams: decoding, the byte limit, progress, errors, discard, and bodyPolicy end to end with it.
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { DRAIN_MAX_BYTES, DRAIN_TIMEOUT_MS, readBody } from './body.js';
import { bodyPolicy } from './body-policy.js';
import { ctxOf, mapError, rejectionOf, wire } from './body-policy.fixtures.js';
import { TransportError } from './errors.js';
import type { Progress } from './types.js';
import {
  decodeWebStream,
  discardWebStream,
  fromRawBody,
  limitWebStream,
  webStreams,
} from './web-streams.js';

/** A web stream of `chunks` that records how it is used: chunks pulled, and whether it was cancelled. */
function source(chunks: Uint8Array[], { stall = false } = {}) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (seen.pulled < chunks.length) controller.enqueue(chunks[seen.pulled++]!);
        else if (!stall) controller.close();
        // Stalled: neither data nor end, as a server that stops sending.
        else return new Promise(() => {});
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

describe('decodeWebStream', () => {
  const body = 'hello web streams '.repeat(100);

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate (zlib-wrapped)', deflateSync],
    ['deflate (raw, as some servers send it)', deflateRawSync],
  ])('decodes %s with DecompressionStream', async (name, encode) => {
    const coding = name.split(' ')[0]!;
    const encoded = encode(Buffer.from(body));
    // Split in two chunks, so a decoder that only looked at one would fail.
    const half = encoded.byteLength >> 1;
    const { stream } = source([encoded.subarray(0, half), encoded.subarray(half)]);
    expect(await text(decodeWebStream(stream, [coding]))).toBe(body);
  });

  it('undoes stacked codings in the order given', async () => {
    const encoded = gzipSync(deflateSync(Buffer.from(body)));
    const { stream } = source([encoded]);
    expect(await text(decodeWebStream(stream, ['gzip', 'deflate']))).toBe(body);
  });

  it("decodes br where DecompressionStream has 'brotli', else refuses it with ERR_CONTENT_ENCODING", async () => {
    let brotli = true;
    try {
      new DecompressionStream('brotli' as CompressionFormat);
    } catch {
      brotli = false;
    }
    const { stream } = source([brotliCompressSync(Buffer.from(body))]);
    if (brotli) {
      expect(await text(decodeWebStream(stream, ['br']))).toBe(body);
    } else {
      expect(() => decodeWebStream(stream, ['br'])).toThrow(
        expect.objectContaining({ code: 'ERR_CONTENT_ENCODING' }),
      );
    }
  });

  it('fails a corrupt body when it is read, never hangs', async () => {
    const { stream } = source([Buffer.from('not gzip at all')]);
    await expect(text(decodeWebStream(stream, ['gzip']))).rejects.toThrow();
  });

  it('cancelling the decoded end cancels the source', async () => {
    const { stream, seen } = source([gzipSync(Buffer.from(body))], { stall: true });
    const decoded = decodeWebStream(stream, ['gzip']);
    const reader = decoded.getReader();
    await reader.read();
    await reader.cancel();
    // pipeThrough propagates the cancel upstream one turn later.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen.cancelled).toBe(true);
  });
});

describe('limitWebStream', () => {
  it('passes a body within maxBytes and reports progress, ending with the total', async () => {
    const reports: Progress[] = [];
    const { stream } = source([bytes('ab'), bytes('cd')]);
    const limited = limitWebStream(stream, {
      maxBytes: 4,
      totalBytes: 4,
      onProgress: (p) => reports.push(p),
    });
    expect(await text(limited)).toBe('abcd');
    expect(reports.at(-1)).toEqual({ transferredBytes: 4, totalBytes: 4, percent: 100 });
  });

  it('fails past maxBytes with ResponseTooLargeError and cancels the source', async () => {
    const { stream, seen } = source([bytes('abc'), bytes('def'), bytes('ghi')]);
    const limited = limitWebStream(stream, { maxBytes: 5, method: 'GET', url: 'http://api.test/' });
    const error = await rejectionOf(text(limited));
    expect(error.code).toBe('ERR_RESPONSE_TOO_LARGE');
    expect(error.url).toBe('http://api.test/');
    expect(seen.cancelled).toBe(true);
    // Stopped at the chunk that crossed the limit.
    expect(seen.pulled).toBe(2);
  });

  it('fails a body that ends before expectedBytes (a cut connection)', async () => {
    const { stream } = source([bytes('abc')]);
    const error = await rejectionOf(text(limitWebStream(stream, { expectedBytes: 10 })));
    expect(error.code).toBe('ERR_CONTENT_LENGTH_MISMATCH');
  });

  it('pulls nothing before it is read', async () => {
    const { stream, seen } = source([bytes('abc')]);
    const limited = limitWebStream(stream, { maxBytes: 10 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen.pulled).toBe(0);
    expect(stream.locked).toBe(false);
    await limited.cancel();
    expect(seen.cancelled).toBe(true);
  });

  it('maps an error of the source with mapError', async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('socket reset'));
      },
    });
    const mapped = new TransportError('mapped', 'ECONNRESET');
    const limited = limitWebStream(failing, { mapError: () => mapped });
    expect(await rejectionOf(text(limited))).toBe(mapped);
  });
});

describe('fromRawBody', () => {
  it('reads a web stream or an async iterable, mapping their errors', async () => {
    const { stream } = source([bytes('a'), bytes('b')]);
    expect(await text(fromRawBody(stream, (e) => e))).toBe('ab');
    async function* failing() {
      yield bytes('x');
      throw new Error('reset');
    }
    const mapped = new TransportError('mapped', 'ECONNRESET');
    const body = fromRawBody(failing() as never, () => mapped);
    expect(await rejectionOf(text(body))).toBe(mapped);
  });
});

describe('discardWebStream', () => {
  it('drains a small body to its end, so its connection is reused', async () => {
    const { stream, seen } = source([bytes('abc'), bytes('def')]);
    await discardWebStream(stream, 6);
    expect(seen.pulled).toBe(2);
    expect(seen.cancelled).toBe(false);
  });

  it('cancels a body whose content-length is over DRAIN_MAX_BYTES without reading it', async () => {
    const { stream, seen } = source([bytes('abc')]);
    await discardWebStream(stream, DRAIN_MAX_BYTES + 1);
    expect(seen.pulled).toBe(0);
    expect(seen.cancelled).toBe(true);
  });

  it('cancels a body of unknown length once it passes DRAIN_MAX_BYTES', async () => {
    const chunk = new Uint8Array(16 * 1024);
    const { stream, seen } = source(Array.from({ length: 10 }, () => chunk));
    await discardWebStream(stream, undefined);
    expect(seen.pulled).toBe(DRAIN_MAX_BYTES / chunk.byteLength + 1);
    expect(seen.cancelled).toBe(true);
  });

  it('cancels a stalled body after DRAIN_TIMEOUT_MS, and never rejects', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const { stream, seen } = source([bytes('abc')], { stall: true });
      const done = discardWebStream(stream, undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen.cancelled).toBe(false);
      jest.advanceTimersByTime(DRAIN_TIMEOUT_MS);
      await done;
      expect(seen.cancelled).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('bodyPolicy with webStreams', () => {
  const respond = bodyPolicy({ maxResponseBytes: undefined, mapError }, webStreams);
  const gzipped = gzipSync(Buffer.from('{"ok":true}'));

  it('streams a body as a web ReadableStream, decoded; json() reads it', async () => {
    const { stream } = source([gzipped]);
    const res = await respond(
      ctxOf({ readBody: false }),
      wire(stream, { contentEncoding: 'gzip', contentLength: String(gzipped.byteLength) }),
    );
    expect(res.body).toBeInstanceOf(ReadableStream);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.bodyRead).toBe(true);
  });

  it('reads a body whole, decoded, with progress', async () => {
    const reports: Progress[] = [];
    const { stream } = source([gzipped]);
    const res = await respond(
      ctxOf({ onDownloadProgress: (p) => reports.push(p) }),
      wire(stream, { contentEncoding: 'gzip' }),
    );
    expect(await res.text()).toBe('{"ok":true}');
    expect(reports.at(-1)?.transferredBytes).toBe(11);
  });

  it('holds a streamed body to maxResponseBytes when it is read', async () => {
    const { stream } = source([bytes('abc'), bytes('def')]);
    const res = await respond(ctxOf({ readBody: false, maxResponseBytes: 4 }), wire(stream));
    expect((await rejectionOf(res.bytes())).code).toBe('ERR_RESPONSE_TOO_LARGE');
  });

  it('bytes() after the body was taken rejects with ERR_BODY_USED; discard() releases an unread one', async () => {
    const first = source([bytes('abc')]);
    const used = await respond(ctxOf({ readBody: false }), wire(first.stream));
    (used.body as unknown as ReadableStream).getReader();
    expect((await rejectionOf(used.bytes())).code).toBe('ERR_BODY_USED');

    const second = source([bytes('abc')], { stall: true });
    const res = await respond(
      ctxOf({ readBody: false }),
      wire(second.stream, { contentLength: String(DRAIN_MAX_BYTES + 1) }),
    );
    await res.discard();
    expect(second.seen.cancelled).toBe(true);
    expect(await res.text()).toBe('');
  });

  it('readBody reads a web stream that is not async-iterable (Safari) through a reader', async () => {
    const { stream } = source([bytes('ab'), bytes('c')]);
    const plain = { getReader: () => stream.getReader() } as unknown as ReadableStream<Uint8Array>;
    expect(new TextDecoder().decode(await readBody(plain))).toBe('abc');
  });
});
