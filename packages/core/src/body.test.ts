import { Readable } from 'node:stream';
import { gzipSync, brotliCompressSync, deflateSync, deflateRawSync } from 'node:zlib';
import { bodyLength, contentCodings, isReplayableBody, readBody } from './body.js';
import { decodeStream, limitStream } from './node-streams.js';
import { isResponseTooLargeError } from './error-guards.js';

describe('request bodies', () => {
  it.each([
    ['a string', 'abc', true, 3],
    ['bytes', new Uint8Array(4), true, 4],
    ['a Blob', new Blob(['12345']), true, 5],
    ['FormData', new FormData(), true, undefined],
    ['a Node stream', Readable.from(['x']), false, undefined],
    ['a web stream', new ReadableStream(), false, undefined],
  ])('%s: replayable %s, length %s', (_name, body, replayable, length) => {
    expect(isReplayableBody(body as never)).toBe(replayable);
    expect(bodyLength(body as never)).toBe(length);
  });

  it('counts string length in UTF-8 bytes', () => {
    expect(bodyLength('é')).toBe(2);
  });
});

describe('content codings', () => {
  it('lists codings in the order to undo them and ignores identity', () => {
    expect(contentCodings('gzip, br')).toEqual(['br', 'gzip']);
    expect(contentCodings('identity')).toBeUndefined();
    expect(contentCodings(null)).toBeUndefined();
    expect(contentCodings('zstd-unknown')).toBeUndefined();
  });

  it('refuses more than five stacked codings', () => {
    expect(() => contentCodings('gzip,gzip,gzip,gzip,gzip,gzip')).toThrow(
      /6 stacked content codings/,
    );
    expect(contentCodings('gzip,gzip,gzip,gzip,gzip')).toHaveLength(5);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
    ['br', brotliCompressSync],
  ])('decodes %s', async (coding, encode) => {
    const text = 'hello '.repeat(1000);
    const decoded = decodeStream(
      Readable.from([encode(Buffer.from(text))]),
      contentCodings(coding)!,
    );
    expect((await readBody(decoded)).toString()).toBe(text);
  });

  it('decodes stacked codings', async () => {
    const data = brotliCompressSync(gzipSync(Buffer.from('layers')));
    const decoded = decodeStream(Readable.from([data]), contentCodings('gzip, br')!);
    expect((await readBody(decoded)).toString()).toBe('layers');
  });
});

describe('byte limits', () => {
  it('readBody stops past maxBytes with ResponseTooLargeError and destroys the source', async () => {
    const source = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    const error = await readBody(source, { maxBytes: 1000 }).catch((e) => e);
    expect(isResponseTooLargeError(error)).toBe(true);
    expect(source.destroyed).toBe(true);
  });

  it('counts decoded bytes, so a small gzip bomb stops at the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const decoded = decodeStream(Readable.from([bomb]), ['gzip']);
    await expect(readBody(decoded, { maxBytes: 1024 * 1024 })).rejects.toThrow(
      /maxResponseBytes 1048576/,
    );
  });

  it('limitStream errors the stream past maxBytes', async () => {
    const limited = limitStream(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), {
      maxBytes: 15,
    });
    await expect(readBody(limited)).rejects.toThrow(/maxResponseBytes 15/);
  });

  it('reports progress at the end with the total and percent', async () => {
    const seen: unknown[] = [];
    await readBody(Readable.from([Buffer.alloc(5), Buffer.alloc(5)]), {
      totalBytes: 10,
      onProgress: (p) => seen.push(p),
    });
    expect(seen[seen.length - 1]).toEqual({ transferredBytes: 10, totalBytes: 10, percent: 100 });
  });
});
