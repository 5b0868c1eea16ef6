// Unit tests of core's body policy with hand-made wire responses (Node Readables and web streams),
// no server: what a transport hands over and what HttpResponse comes back. Transports run the conformance suite.
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DEFAULT_MAX_BUFFERED_BYTES } from './body.js';
import { bodyPolicy } from './body-policy.js';
import { ctxOf, mapError, rejectionOf, wire } from './body-policy.fixtures.js';
import { isResponseTooLargeError } from './error-guards.js';
import type { Progress } from './types.js';

describe('bodyPolicy', () => {
  it('reads a plain body whole through readAll, the fast path, then awaits afterBody', async () => {
    const order: string[] = [];
    const respond = bodyPolicy({
      maxResponseBytes: undefined,
      mapError,
      readAll: async () => {
        order.push('readAll');
        return Buffer.from('fast');
      },
      afterBody: async () => {
        order.push('afterBody');
      },
    });
    const res = await respond(ctxOf(), wire(Readable.from(['never read']), { contentLength: '4' }));
    expect(await res.text()).toBe('fast');
    expect(res.raw).toBe('raw');
    expect(res.url).toBe('http://api.test/x');
    expect(order).toEqual(['readAll', 'afterBody']);
  });

  it('readsWhole() says when a transport may collect a body itself: nothing to decode, report, drop or hold unknown to a limit', () => {
    const respond = bodyPolicy({ maxResponseBytes: 100, mapError });
    const head = { status: 200, contentLength: '4', contentEncoding: null, location: null };
    expect(respond.readsWhole(ctxOf(), head)).toBe(true);
    expect(respond.readsWhole(ctxOf(), { ...head, contentEncoding: 'identity' })).toBe(true);
    // Streamed, reported, decoded, body-less, a redirect to follow, too large or of unknown length: no.
    expect(respond.readsWhole(ctxOf({ readBody: false }), head)).toBe(false);
    expect(respond.readsWhole(ctxOf({ onDownloadProgress: () => {} }), head)).toBe(false);
    expect(respond.readsWhole(ctxOf(), { ...head, contentEncoding: 'gzip' })).toBe(false);
    expect(respond.readsWhole(ctxOf(), { ...head, contentEncoding: 'a,b,c,d,e,f' })).toBe(false);
    expect(respond.readsWhole(ctxOf(), { ...head, status: 204 })).toBe(false);
    expect(respond.readsWhole(ctxOf(), { ...head, status: 302, location: '/next' })).toBe(false);
    expect(respond.readsWhole(ctxOf(), { ...head, contentLength: '101' })).toBe(false);
    expect(respond.readsWhole(ctxOf(), { ...head, contentLength: undefined })).toBe(false);
    // With no limit at all (a streamed call's default), any length is fine; fetch's bodies come decoded.
    expect(
      bodyPolicy({ maxResponseBytes: undefined, mapError }).readsWhole(
        ctxOf({ maxResponseBytes: Number.POSITIVE_INFINITY }),
        { ...head, contentLength: undefined },
      ),
    ).toBe(true);
    expect(
      bodyPolicy({ maxResponseBytes: 100, mapError, decoded: true }).readsWhole(ctxOf(), {
        ...head,
        contentEncoding: 'gzip',
        contentLength: '4',
      }),
    ).toBe(false);
  });

  it('takes the bytes a transport collected as the body, held to their content-length', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    const res = await respond(
      ctxOf(),
      wire(new Uint8Array(Buffer.from('done')), { contentLength: '4' }),
    );
    expect(await res.text()).toBe('done');
    const short = await rejectionOf(
      respond(ctxOf(), wire(new Uint8Array(Buffer.from('do')), { contentLength: '4' })),
    );
    expect(short.code).toBe('ERR_CONTENT_LENGTH_MISMATCH');
  });

  it('fails a body that ends before its content-length', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    for (const readBody of [true, false]) {
      const res = respond(
        ctxOf({ readBody }),
        wire(Readable.from([Buffer.from('abc')]), { contentLength: '10' }),
      );
      const error = await rejectionOf(res.then((r) => r.bytes()));
      expect(error.code).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    }
  });

  it('answers HEAD, 204 and 304 without a body and settles the stream', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    for (const [method, status] of [
      ['HEAD', 200],
      ['GET', 204],
      ['GET', 304],
    ] as const) {
      const body = Readable.from([Buffer.from('ignored')]);
      const ctx = ctxOf({
        request: {
          method,
          url: new URL('http://api.test/'),
          headers: new Headers(),
          body: undefined,
        },
      });
      const res = await respond(ctx, wire(body, { status, contentLength: '7' }));
      expect((await res.bytes()).byteLength).toBe(0);
      await new Promise((resolve) => body.once('close', resolve));
    }
  });

  it('decodes an undecoded body and counts decoded bytes against the limit', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    const text = 'hello '.repeat(1000);
    const gz = gzipSync(text);
    const res = await respond(
      ctxOf(),
      wire(Readable.from([gz]), { contentEncoding: 'gzip', contentLength: String(gz.length) }),
    );
    expect(await res.text()).toBe(text);
    const bomb = gzipSync(Buffer.alloc(1024 * 1024));
    const error = await rejectionOf(
      respond(
        ctxOf({ maxResponseBytes: 1000 }),
        wire(Readable.from([bomb]), { contentEncoding: 'gzip' }),
      ),
    );
    expect(isResponseTooLargeError(error)).toBe(true);
  });

  it('leaves a body decoded by the backend as it is, with its length unknown', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, decoded: true, mapError });
    const body = new Response('already decoded').body!;
    const res = await respond(
      ctxOf({ readBody: false }),
      wire(body, { contentEncoding: 'gzip', contentLength: '3' }),
    );
    expect(res.body).toBeInstanceOf(Readable);
    expect(await res.text()).toBe('already decoded');
  });

  it('refuses a body known too large before reading it, 32 MiB by default for a body read whole', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    const body = new Readable({ read() {} });
    const error = await rejectionOf(
      respond(ctxOf(), wire(body, { contentLength: String(DEFAULT_MAX_BUFFERED_BYTES + 1) })),
    );
    expect(isResponseTooLargeError(error)).toBe(true);
    expect(body.destroyed).toBe(true);
  });

  it('refuses more than 5 stacked codings with the method and URL of the call', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    const body = new Readable({ read() {} });
    const error = await rejectionOf(
      respond(ctxOf(), wire(body, { contentEncoding: ['gzip, gzip, gzip', 'gzip, gzip, gzip'] })),
    );
    expect(error.code).toBe('ERR_CONTENT_ENCODING');
    expect(error.url).toBe('http://api.test/x');
    expect(body.destroyed).toBe(true);
  });

  it('releases the body of a redirect the client follows without decoding or reporting it', async () => {
    const seen: Progress[] = [];
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    const res = await respond(
      ctxOf({ onDownloadProgress: (p) => seen.push(p) }),
      wire(Readable.from([Buffer.from('not gzip')]), {
        status: 302,
        location: '/next',
        contentEncoding: 'gzip',
      }),
    );
    expect(res.bodyRead).toBe(false);
    await res.discard();
    expect(seen).toEqual([]);
  });

  it('maps the errors of a streamed body, Node or web, through mapError', async () => {
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    const failing = () =>
      new Readable({
        read() {
          this.destroy(new Error('socket hang up'));
        },
      });
    const web = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('terminated'));
      },
    });
    for (const body of [failing(), web]) {
      const res = await respond(ctxOf({ readBody: false }), wire(body));
      const error = await rejectionOf(res.bytes());
      expect(error.code).toBe('ECONNRESET');
    }
    const whole = await rejectionOf(
      respond(ctxOf({ onDownloadProgress: () => {} }), wire(failing())),
    );
    expect(whole.code).toBe('ECONNRESET');
  });

  it('reports download progress of a streamed body, ending at its length', async () => {
    const seen: Progress[] = [];
    const respond = bodyPolicy({ maxResponseBytes: undefined, mapError });
    const res = await respond(
      ctxOf({ readBody: false, onDownloadProgress: (p) => seen.push(p) }),
      wire(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), { contentLength: '20' }),
    );
    expect((await res.bytes()).byteLength).toBe(20);
    expect(seen[seen.length - 1]).toEqual({ transferredBytes: 20, totalBytes: 20, percent: 100 });
  });
});
