// The conformance suite's server side: the fixtures (8 MiB pattern, encoded bodies, a gzip bomb) and
// the routes of the real node:http(s)/h2 test server every case talks to.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as zlib from 'node:zlib';

export const MiB = 1024 * 1024;
export const TRICKLE_INTERVAL_MS = 20;
export const BIG_SIZE = 8 * MiB;
export const CHUNK = 64 * 1024;
export const ENCODED_TEXT =
  'extapi conformance: the quick brown fox jumps over the lazy dog. '.repeat(200);
const ENCODERS: Record<string, (input: Buffer) => Buffer> = {
  gzip: (input) => zlib.gzipSync(input),
  deflate: (input) => zlib.deflateSync(input),
  br: (input) => zlib.brotliCompressSync(input),
};

/** Deterministic, non-repeating-looking bytes, so a lost or reordered chunk changes the hash. */
export function patternBytes(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 12)) & 0xff;
  return bytes;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readRequest(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes `total` bytes of `bytes` in chunks, respecting backpressure; stops when the client goes away. */
function writeChunked(res: ServerResponse, bytes: Buffer, endless = false): void {
  let offset = 0;
  const pump = () => {
    while (!res.destroyed) {
      if (!endless && offset >= bytes.length) {
        res.end();
        return;
      }
      const start = endless ? offset % bytes.length : offset;
      const chunk = bytes.subarray(start, Math.min(start + CHUNK, bytes.length));
      offset += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** The bodies the routes serve, made once per suite. */
export interface Fixtures {
  big: Buffer;
  bigHash: string;
  /** 1 MiB of random bytes gzip-compressed, for a compressed body cut mid-read. */
  bigGzip: Buffer;
  bomb: Buffer;
  encoded: Map<string, Buffer>;
}

/** Builds the fixtures (about 30 MiB of buffers; call once per suite). */
export function makeFixtures(): Fixtures {
  const big = patternBytes(BIG_SIZE);
  const text = Buffer.from(ENCODED_TEXT);
  const encoded = new Map<string, Buffer>();
  for (const header of [
    'gzip',
    'deflate',
    'br',
    'gzip, br',
    'gzip, gzip, gzip, gzip, gzip, gzip',
  ]) {
    // The header lists codings in the order they were applied.
    let body: Buffer = text;
    for (const coding of header.split(', ')) body = ENCODERS[coding]!(body);
    encoded.set(header, body);
  }
  // 16 MiB of zeros: about 16 KiB on the wire.
  return {
    big,
    bigHash: sha256(big),
    // Random bytes do not compress: the gzip body is about 1 MiB, so a 64 KiB part is truly partial.
    bigGzip: zlib.gzipSync(randomBytes(MiB)),
    bomb: zlib.gzipSync(Buffer.alloc(16 * MiB)),
    encoded,
  };
}

/** The routes of the shared test server. */
export function router(fixtures: Fixtures) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/echo')) {
      const body = await readRequest(req);
      const payload = Buffer.from(
        JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: body.toString('base64'),
          length: body.length,
          httpVersion: req.httpVersion,
        }),
      );
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
      res.end(req.method === 'HEAD' ? undefined : payload);
      return;
    }
    if (path === '/bytes') {
      // Answers exactly the bytes it received.
      const body = await readRequest(req);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
      });
      res.end(body);
      return;
    }
    if (path === '/sized') {
      const size = Number(url.searchParams.get('size') ?? '0');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      res.end(fixtures.big.subarray(0, size));
      return;
    }
    if (path === '/trickle') {
      // `chunks` pieces of `size` bytes, one every 20 ms: a slow download for progress reports.
      const chunks = Number(url.searchParams.get('chunks') ?? '12');
      const size = Number(url.searchParams.get('size') ?? '10240');
      const known = url.searchParams.get('known') !== '0';
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        ...(known ? { 'content-length': chunks * size } : {}),
      });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent === chunks) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(fixtures.big.subarray(sent * size, ++sent * size));
      }, TRICKLE_INTERVAL_MS);
      return;
    }
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      writeChunked(res, fixtures.big);
      return;
    }
    if (path === '/endless') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      writeChunked(res, fixtures.big, true);
      return;
    }
    if (path === '/cookies') {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
      res.setHeader('x-multi', ['one', 'two']);
      res.end('cookies');
      return;
    }
    if (path.startsWith('/status/')) {
      const status = Number(path.slice('/status/'.length));
      if (status === 304) res.setHeader('etag', '"v1"');
      res.writeHead(status);
      res.end(status === 204 || status === 304 ? undefined : `status ${status}`);
      return;
    }
    if (path === '/head') {
      // A HEAD answer announces a body it does not send (RFC 9110 §9.3.2).
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
      res.end();
      return;
    }
    if (path === '/redirect') {
      await readRequest(req);
      res.writeHead(Number(url.searchParams.get('status')), {
        location: url.searchParams.get('to') ?? '/echo',
      });
      res.end();
      return;
    }
    if (path === '/encoded') {
      const coding = url.searchParams.get('coding') ?? 'gzip';
      const body = fixtures.encoded.get(coding)!;
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-encoding': coding,
        'content-length': body.length,
      });
      res.end(body);
      return;
    }
    if (path === '/bomb') {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-encoding': 'gzip',
      });
      res.end(fixtures.bomb);
      return;
    }
    if (path === '/reset') {
      // Headers and part of the body, then a TCP reset in the middle of the body.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 4 * MiB });
      res.write(fixtures.big.subarray(0, CHUNK));
      setTimeout(() => {
        // HTTP/2 keeps the socket to itself: the peer going away is the whole session destroyed.
        const session = (req as { stream?: { session?: { destroy(): void } } }).stream?.session;
        if (session) return session.destroy();
        const socket = req.socket as typeof req.socket & { resetAndDestroy?: () => void };
        if (socket.resetAndDestroy) socket.resetAndDestroy();
        else socket.destroy();
      }, 20);
      return;
    }
    if (path === '/bad-redirect') {
      // A redirect whose body claims gzip but is not: nobody should try to decode it.
      res.writeHead(Number(url.searchParams.get('status') ?? '302'), {
        location: url.searchParams.get('to') ?? '/echo',
        'content-encoding': 'gzip',
        'content-type': 'text/html',
      });
      res.end('<a href="/echo">moved</a> (not gzip at all)');
      return;
    }
    if (path === '/long') {
      // `size` bytes of the pattern, chunked (no content-length).
      let left = Number(url.searchParams.get('size') ?? '0');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = () => {
        while (!res.destroyed && left > 0) {
          const chunk = fixtures.big.subarray(0, Math.min(left, fixtures.big.length));
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (path === '/drip') {
      // 102 Processing every 100 ms, forever: a final answer never comes.
      const stream = (req as { stream?: { additionalHeaders(h: object): void } }).stream;
      const timer = setInterval(() => {
        if (res.destroyed || res.writableEnded) return clearInterval(timer);
        if (stream) stream.additionalHeaders({ ':status': 102 });
        else res.writeProcessing();
      }, 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/cut') {
      // Part of a body whose content-length announces more, then the end of the stream: over
      // HTTP/2 a RST_STREAM(CANCEL) (no error for the client's stack), over HTTP/1.1 a closed socket.
      const gzip = url.searchParams.get('gzip') === '1';
      const whole = gzip ? fixtures.bigGzip : fixtures.big;
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': whole.length,
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      res.write(whole.subarray(0, CHUNK));
      setTimeout(() => {
        const stream = (req as { stream?: { close(code: number): void } }).stream;
        if (stream) stream.close(8 /* NGHTTP2_CANCEL */);
        else req.socket.destroy();
      }, 20);
      return;
    }
    if (path === '/reset-gzip') {
      // Headers and part of a gzip body, then the connection (or HTTP/2 session) goes away.
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-encoding': 'gzip',
        'content-length': fixtures.bigGzip.length,
      });
      res.write(fixtures.bigGzip.subarray(0, CHUNK));
      setTimeout(() => {
        const session = (req as { stream?: { session?: { destroy(): void } } }).stream?.session;
        if (session) return session.destroy();
        const socket = req.socket as typeof req.socket & { resetAndDestroy?: () => void };
        if (socket.resetAndDestroy) socket.resetAndDestroy();
        else socket.destroy();
      }, 20);
      return;
    }
    if (path === '/hang') {
      // Never answers; the test server destroys the socket on close.
      return;
    }
    if (path === '/hang-body') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
      res.write(Buffer.alloc(10));
      return;
    }
    res.writeHead(404);
    res.end('not found');
  };
}
