// Unbounded bodies (undici CVE-2026-22036, node-fetch CVE-2020-15168, axios CVE-2019-10742): a
// decompression bomb, stacked codings, a limit after a redirect, endless and stalled bodies.
import type { ServerResponse } from 'node:http';
import { gzipSync, createGzip } from 'node:zlib';
import { isExtapiError, isResponseTooLargeError, isTimeoutError } from '@extapi/core';
import { startTestServer } from '@extapi/core/testing';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ZEROS = Buffer.alloc(MiB);

/** Writes `total` zero bytes through gzip into `res`, as fast as the client reads; stops when it goes. */
function gzipZeros(res: ServerResponse, total: number, counter: { fed: number }): void {
  res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/octet-stream' });
  const gzip = createGzip({ level: 1 });
  gzip.pipe(res);
  let stopped = false;
  res.once('close', () => {
    stopped = true;
    gzip.destroy();
  });
  const feed = () => {
    while (!stopped && counter.fed < total) {
      counter.fed += ZEROS.byteLength;
      if (!gzip.write(ZEROS)) {
        gzip.once('drain', feed);
        return;
      }
    }
    if (!stopped) gzip.end();
  };
  feed();
}

/** Writes 64 KiB chunks forever (chunked encoding), as fast as the client reads. */
function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const chunk = Buffer.alloc(64 * 1024, 120);
  let stopped = false;
  res.once('close', () => {
    stopped = true;
  });
  const pump = () => {
    while (!stopped) if (!res.write(chunk)) return void res.once('drain', pump);
  };
  pump();
}

function nest(body: Buffer, layers: number): Buffer {
  let out = body;
  for (let i = 0; i < layers; i++) out = gzipSync(out);
  return out;
}

describe.each(TRANSPORTS)('unbounded bodies over %s', (name, kind) => {
  const guard = useGuard();

  async function server() {
    const fed = { fed: 0 };
    const closed: string[] = [];
    const s = await startTestServer((req, res) => {
      res.once('close', () => closed.push(req.url!));
      const url = new URL(req.url!, 'http://x');
      switch (url.pathname) {
        case '/bomb':
          return gzipZeros(res, GiB, fed);
        case '/layers': {
          const layers = Number(url.searchParams.get('n'));
          res.writeHead(200, { 'content-encoding': Array(layers).fill('gzip').join(', ') });
          return void res.end(nest(Buffer.from('hello'), layers));
        }
        case '/hop':
          res.writeHead(302, { location: url.searchParams.get('to')! });
          return void res.end();
        case '/big':
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return void res.end(Buffer.alloc(20 * MiB));
        case '/endless':
          return endless(res);
        case '/stall':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first chunk, then nothing');
          return;
        case '/trickle': {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const timer = setInterval(() => res.write('.'), 20);
          res.once('close', () => clearInterval(timer));
          return;
        }
      }
      res.end('ok');
    });
    guard.defer(() => s.close());
    return { s, fed, closed };
  }

  it.each([true, false])(
    'stops 1 GiB of gzipped zeros at maxResponseBytes 10 MiB with RSS growing under 64 MiB (readBody %p)',
    async (readBody) => {
      const { s, fed } = await server();
      const client = guard.client([kind.make(guard, { maxResponseBytes: 10 * MiB })], {
        baseUrl: s.url,
      });
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      let loaded = 0;
      let seen = 0;
      try {
        const error = await (async () => {
          const res = await client.get('/bomb', {
            readBody,
            onDownloadProgress: (p) => {
              loaded = p.transferredBytes;
            },
          });
          for await (const chunk of res.body!) seen += (chunk as Buffer).byteLength;
          return new Error(`read ${seen} bytes without an error`);
        })().catch((e: unknown) => e);
        expect(isResponseTooLargeError(error)).toBe(true);
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(loaded).toBeLessThanOrEqual(10 * MiB);
      // Streamed, the caller saw about the limit before the error: stopped at it, not long after.
      if (!readBody) expect(seen).toBeGreaterThan(9 * MiB);
      expect(seen).toBeLessThanOrEqual(10 * MiB);
      // The server stopped before the gigabyte: the client went away. (Loopback socket buffers hold
      // a few MiB of compressed zeros, hundreds of MiB decoded, so this bound cannot be tighter.)
      expect(fed.fed).toBeLessThan(GiB);
      expect(peak - before).toBeLessThan(64 * MiB);
    },
  );

  it('refuses six stacked content codings and decodes five', async () => {
    const { s } = await server();
    const client = guard.client([kind.make(guard, { maxResponseBytes: MiB })], { baseUrl: s.url });
    const error = await client.get('/layers', { query: { n: 6 } }).catch((e: unknown) => e);
    expect(isExtapiError(error) && error.code).toBe('ERR_CONTENT_ENCODING');
    expect(await (await client.get('/layers', { query: { n: 5 } })).text()).toBe('hello');
  });

  it('holds the transport limit and the per-call limit after a redirect', async () => {
    const { s } = await server();
    const limited = guard.client([kind.make(guard, { maxResponseBytes: 10 * MiB })], {
      baseUrl: s.url,
    });
    for (const to of ['/big', '/bomb']) {
      const error = await limited.get('/hop', { query: { to } }).catch((e: unknown) => e);
      expect(isResponseTooLargeError(error)).toBe(true);
    }
    const open = guard.client([kind.make(guard)], { baseUrl: s.url });
    const error = await open
      .get('/hop', { query: { to: '/big' }, maxResponseBytes: MiB })
      .catch((e: unknown) => e);
    expect(isResponseTooLargeError(error) && error.maxResponseBytes).toBe(MiB);
  });

  it('stops an endless chunked body at the limit and closes its connection', async () => {
    const { s, closed } = await server();
    const client = guard.client([kind.make(guard, { maxResponseBytes: MiB })], { baseUrl: s.url });
    const error = await client.get('/endless').catch((e: unknown) => e);
    expect(isResponseTooLargeError(error)).toBe(true);
    const streamed = await client.get('/endless', { readBody: false });
    const failure = await (async () => {
      for await (const _ of streamed.body!);
    })().catch((e: unknown) => e);
    expect(isResponseTooLargeError(failure)).toBe(true);
    // Only a failing run waits this long; a slow, loaded machine may need more than a second or two.
    const deadline = Date.now() + 10_000;
    while (closed.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toEqual(['/endless', '/endless']);
  });

  it(
    name === 'undiciTransport'
      ? 'stops a stalled body at bodyTimeoutMs'
      : 'stops a stalled body at the call timeoutMs (fetch has no bodyTimeoutMs)',
    async () => {
      const { s } = await server();
      const transport = kind.make(guard, { bodyTimeoutMs: 200 });
      const client = guard.client([transport], { baseUrl: s.url });
      const error = await client
        .get('/stall', name === 'undiciTransport' ? {} : { timeoutMs: 300 })
        .catch((e: unknown) => e);
      expect(isTimeoutError(error)).toBe(true);
      expect(isTimeoutError(error) && error.phase).toBe(
        name === 'undiciTransport' ? 'body' : 'request',
      );
      // Which deadline ended the call, named by the error rather than guessed from elapsed time.
      expect(isTimeoutError(error) && error.timeoutMs).toBe(name === 'undiciTransport' ? 200 : 300);
    },
  );

  it('stops an endless trickle that never pauses long enough for bodyTimeoutMs at timeoutMs', async () => {
    const { s } = await server();
    // A dot every 20 ms never leaves 1 s of silence, even when a loaded machine stalls the loop for
    // a few hundred ms (with bodyTimeoutMs 200 such a stall raced the 300 ms deadline).
    const client = guard.client([kind.make(guard, { bodyTimeoutMs: 1_000 })], { baseUrl: s.url });
    const error = await client.get('/trickle', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isTimeoutError(error) && error.phase).toBe('request');
  });
});
