// Tests of what only the undici transport has: its Agent, its options and its own deadlines,
// against a real node:http server on 127.0.0.1. The shared behaviour is in the conformance suite.
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  ConfigError,
  createClient,
  createContext,
  type ExtapiError,
  isExtapiError,
  isConfigError,
  isTimeoutError,
  isTransportError,
  type Middleware,
  type Progress,
  type TimeoutError,
  type TransportError,
} from '@extapi/core';
import { startRawServer, startTestServer, type TestServer } from '@extapi/core/testing';
import { Agent, request } from 'undici';
import {
  DEFAULT_UNDICI_TRANSPORT_OPTIONS,
  type UndiciResponseData,
  type UndiciTransport,
  type UndiciTransportOptions,
  undiciTransport,
} from './index.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(async (req, res) => {
    if (req.url === '/hang') return;
    if (req.url === '/hang-body') {
      res.writeHead(200, { 'content-length': 100 });
      res.write('x');
      return;
    }
    if (req.url === '/stall-small' || req.url === '/stall-small-gzip') {
      const gzip = req.url === '/stall-small-gzip';
      res.writeHead(200, {
        'content-length': 100,
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      res.write(gzip ? gzipSync('x').subarray(0, 10) : 'x');
      return;
    }
    if (req.url === '/corrupt-gzip') {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end('this is not gzip at all');
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    // How the request body was framed: a known length, or chunked.
    res.setHeader(
      'x-framing',
      req.headers['transfer-encoding'] ?? `length ${req.headers['content-length']}`,
    );
    res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).length}`);
  });
});

afterAll(() => server.close());

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('undiciTransport', () => {
  it('is a transport named undici whose dispatcher is the Agent it owns', async () => {
    const transport = undiciTransport();
    const client = createClient([transport], { baseUrl: server.url });
    try {
      expect(client.transport).toBe(transport);
      expect(client.transport.transportName).toBe('undici');
      expect(transport.dispatcher).toBeInstanceOf(Agent);
      expect(client.describe()).toEqual(['undiciTransport']);
      const res = await client.get('/hello');
      expect(await res.text()).toBe('GET /hello 0');
      // raw is undici's own ResponseData.
      expect((res.raw as { statusCode: number }).statusCode).toBe(200);
    } finally {
      await client.close();
    }
  });

  it('sends the path and query of each URL to its origin, never a fragment or userinfo', async () => {
    const port = new URL(server.url).port;
    // A middleware that puts userinfo back into the URL (core's own step strips it from the input).
    const userinfo: Middleware = (ctx, next) => {
      ctx.request.url.username = 'u';
      return next();
    };
    const client = createClient([undiciTransport()]);
    const withUserinfo = createClient([userinfo, undiciTransport()]);
    try {
      // Two origins in turn (the transport reuses the last origin's string), then userinfo.
      const answers = [
        await client.get(`http://127.0.0.1:${port}/a?x=1#frag`),
        await client.get(`http://localhost:${port}/b#`),
        await client.get(`http://127.0.0.1:${port}/c/?q=%20`),
        await withUserinfo.get(`http://127.0.0.1:${port}/d?y=2#z`),
      ];
      expect(await Promise.all(answers.map((res) => res.text()))).toEqual([
        'GET /a?x=1 0',
        'GET /b 0',
        'GET /c/?q=%20 0',
        'GET /d?y=2 0',
      ]);
    } finally {
      await client.close();
      await withUserinfo.close();
    }
  });

  it('res.raw leads back to nothing of the request: no credential in util.inspect(res.raw)', async () => {
    const client = createClient([undiciTransport()], { baseUrl: server.url });
    try {
      const res = await client.get('/hello', { headers: { authorization: 'Bearer raw-secret' } });
      expect((res.raw as { opaque: unknown }).opaque).toBeNull();
      expect(inspect(res.raw, { depth: 8 })).not.toContain('raw-secret');
    } finally {
      await client.close();
    }
  });

  it('collects a body read whole without a stream (res.raw.body is null) and streams the others', async () => {
    const client = createClient([undiciTransport()], { baseUrl: server.url });
    try {
      const whole = await client.get('/hello');
      expect((whole.raw as UndiciResponseData).body).toBeNull();
      expect(await whole.text()).toBe('GET /hello 0');
      const streamed = await client.get('/hello', { readBody: false });
      expect((streamed.raw as UndiciResponseData).body).toBeInstanceOf(Readable);
      expect(await streamed.text()).toBe('GET /hello 0');
      // A body whose progress is reported is counted by core as it streams.
      const reported: Progress[] = [];
      const progressed = await client.get('/hello', {
        onDownloadProgress: (p) => reported.push(p),
      });
      expect((progressed.raw as UndiciResponseData).body).not.toBeNull();
      expect(await progressed.text()).toBe('GET /hello 0');
      expect(reported.at(-1)?.transferredBytes).toBe(12);
    } finally {
      await client.close();
    }
  });

  it('reads headers off the raw head in any case, repeated ones joined, as undici parses them', async () => {
    const raw = await startRawServer((_req, socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\nX-Rate: 1\r\nCONTENT-LENGTH: 2\r\nx-rate: 2\r\nContent-Type: text/plain\r\n\r\nok',
      );
    });
    const client = createClient([undiciTransport()], { baseUrl: raw.url });
    try {
      const res = await client.get('/');
      expect(res.headers.get('x-rate')).toBe('1, 2');
      expect(res.headers.has('x-absent')).toBe(false);
      expect(await res.text()).toBe('ok');
      expect((res.raw as UndiciResponseData).headers).toEqual({
        'x-rate': ['1', '2'],
        'content-length': '2',
        'content-type': 'text/plain',
      });
      expect([...res.headers]).toEqual([
        ['content-length', '2'],
        ['content-type', 'text/plain'],
        ['x-rate', '1, 2'],
      ]);
    } finally {
      await client.close();
      await raw.close();
    }
  });

  it('collects a body that comes in several pieces, an empty one, and the trailers of a chunked one', async () => {
    // Three pieces, each in its own write a moment apart: undici hands over each separately.
    const drip = (socket: Socket, pieces: string[], end = '') => {
      const timer = setInterval(() => {
        const piece = pieces.shift();
        if (piece !== undefined) socket.write(piece);
        else {
          clearInterval(timer);
          if (end) socket.write(end);
        }
      }, 5);
    };
    const raw = await startRawServer((req, socket) => {
      if (req.path === '/pieces') {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n');
        drip(socket, ['ab0', 'ab1', 'ab2']);
      } else if (req.path === '/trailers') {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n');
        drip(socket, ['3\r\nab0\r\n', '3\r\nab1\r\n'], '0\r\nX-Sum: 6\r\n\r\n');
      } else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    const client = createClient([undiciTransport()], { baseUrl: raw.url });
    try {
      const pieces = await client.get('/pieces');
      expect((pieces.raw as UndiciResponseData).body).toBeNull(); // collected, not streamed
      expect(await pieces.text()).toBe('ab0ab1ab2');
      expect((pieces.raw as UndiciResponseData).trailers).toEqual({});
      const empty = await client.get('/empty');
      expect((await empty.bytes()).byteLength).toBe(0);
      const trailed = await client.get('/trailers');
      expect(await trailed.text()).toBe('ab0ab1');
      expect((trailed.raw as UndiciResponseData).trailers).toEqual({ 'x-sum': '6' });
    } finally {
      await client.close();
      await raw.close();
    }
  });

  it('an abort while a body is being collected rejects with the reason and closes that connection', async () => {
    const client = createClient([undiciTransport()], { baseUrl: server.url });
    try {
      const controller = new AbortController();
      const call = client.get('/stall-small', { signal: controller.signal });
      // The head and one byte have come; the body is being collected when the abort lands.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const reason = new Error('caller gave up');
      controller.abort(reason);
      await expect(call).rejects.toBe(reason);
      // The connection went with it: the next call answers on a fresh one.
      const next = await client.get('/hello');
      expect(await next.text()).toBe('GET /hello 0');
    } finally {
      await client.close();
    }
  });

  it('closes its own Agent on client.close(); later calls fail with ERR_TRANSPORT_CLOSED', async () => {
    const transport = undiciTransport();
    const client = createClient([transport], { baseUrl: server.url });
    await client.get('/warm');
    await client.close();
    expect((transport.dispatcher as Agent).closed).toBe(true);
    const error = await rejectionOf(client.get('/after-close'));
    expect(isTransportError(error)).toBe(true);
    expect((error as TransportError).code).toBe('ERR_TRANSPORT_CLOSED');
  });

  it('sends through a dispatcher passed in and never closes it', async () => {
    const agent = new Agent();
    try {
      const transport = undiciTransport({ dispatcher: agent, maxResponseBytes: 1000 });
      const client = createClient([transport], { baseUrl: server.url });
      expect((client.transport as UndiciTransport).dispatcher).toBe(agent);
      expect(await (await client.get('/through')).text()).toBe('GET /through 0');
      await client.close();
      expect(agent.closed).toBe(false);
      const { body } = await request(`${server.url}/still-open`, { dispatcher: agent });
      expect(await body.text()).toBe('GET /still-open 0');
    } finally {
      await agent.close();
    }
  });

  it('never follows a redirect itself: called directly it returns the 3xx', async () => {
    const transport = undiciTransport();
    try {
      const ctx = createContext({
        request: {
          method: 'GET',
          url: new URL(`${server.url}/redirect`),
          headers: new Headers(),
          body: undefined,
        },
      });
      const res = await transport(ctx);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/elsewhere');
    } finally {
      await transport.close();
    }
  });

  it('a corrupt gzip body rejects with ERR_CONTENT_DECODING', async () => {
    const client = createClient([undiciTransport()], { baseUrl: server.url });
    try {
      const error = await rejectionOf(client.get('/corrupt-gzip'));
      expect(isExtapiError(error)).toBe(true);
      expect((error as ExtapiError).code).toBe('ERR_CONTENT_DECODING');
      // The connection of a failed body is not reused half-read; the next call still works.
      expect(await (await client.get('/next')).text()).toBe('GET /next 0');
    } finally {
      await client.close();
    }
  });

  it.each(['/stall-small', '/stall-small-gzip'])(
    'discard() of a small body whose server stalls gives up after a second (%s)',
    async (path) => {
      const client = createClient([undiciTransport()], { baseUrl: server.url });
      try {
        const res = await client.get(path, { readBody: false });
        // The server never sends the rest, so only the drain's deadline can end discard(). Its timer
        // runs on a fake clock (nothing else is faked: the socket's I/O stays real), so the
        // deadline is checked to the millisecond however slow the machine: not yet at 999 ms, and
        // done with the clock standing at 1000 (a longer deadline would never fire).
        jest.useFakeTimers({
          doNotFake: [
            'Date',
            'hrtime',
            'nextTick',
            'performance',
            'queueMicrotask',
            'setImmediate',
            'clearImmediate',
            'setInterval',
            'clearInterval',
          ],
        });
        let discarded = false;
        let discarding: Promise<void>;
        try {
          discarding = res.discard().then(() => {
            discarded = true;
          });
          await jest.advanceTimersByTimeAsync(999);
          expect(discarded).toBe(false);
          await jest.advanceTimersByTimeAsync(1);
        } finally {
          jest.useRealTimers();
        }
        await discarding;
        expect(await (await client.get('/next')).text()).toBe('GET /next 0');
      } finally {
        await client.close();
      }
    },
  );

  it('reports upload progress for a body it sends, ending at the full size, its length kept (not chunked)', async () => {
    const client = createClient([undiciTransport()], { baseUrl: server.url });
    try {
      const seen: Progress[] = [];
      const res = await client.post('/upload', {
        body: 'x'.repeat(100_000),
        onUploadProgress: (p) => seen.push(p),
      });
      expect(await res.text()).toBe('POST /upload 100000');
      expect(res.headers.get('x-framing')).toBe('length 100000');
      expect(seen[seen.length - 1]).toEqual({
        transferredBytes: 100_000,
        totalBytes: 100_000,
        percent: 100,
      });
    } finally {
      await client.close();
    }
  });

  it('headersTimeoutMs rejects with TimeoutError phase headers', async () => {
    const client = createClient([undiciTransport({ headersTimeoutMs: 50 })], {
      baseUrl: server.url,
    });
    try {
      const error = await rejectionOf(client.get('/hang'));
      expect(isTimeoutError(error)).toBe(true);
      expect((error as TimeoutError).phase).toBe('headers');
      expect((error as TimeoutError).timeoutMs).toBe(50);
    } finally {
      await client.close();
    }
  });

  it('bodyTimeoutMs rejects with TimeoutError phase body', async () => {
    const client = createClient([undiciTransport({ bodyTimeoutMs: 50 })], { baseUrl: server.url });
    try {
      const error = await rejectionOf(client.get('/hang-body'));
      expect(isTimeoutError(error)).toBe(true);
      expect((error as TimeoutError).phase).toBe('body');
    } finally {
      await client.close();
    }
  });

  it('headersTimeoutMs with a dispatcher passed in applies per request', async () => {
    const agent = new Agent();
    const client = createClient([undiciTransport({ dispatcher: agent, headersTimeoutMs: 50 })], {
      baseUrl: server.url,
    });
    try {
      const error = await rejectionOf(client.get('/hang'));
      expect((error as TimeoutError).phase).toBe('headers');
    } finally {
      await agent.close();
    }
  });

  it('connectTimeoutMs rejects with TimeoutError phase connect when the handshake never completes', async () => {
    // A TCP server that accepts and stays silent: the TLS handshake of an https: call never ends.
    const silent: TcpServer = createTcpServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const client = createClient([undiciTransport({ connectTimeoutMs: 50 })]);
    try {
      const error = await rejectionOf(client.get(`https://127.0.0.1:${port}/`));
      expect(isTimeoutError(error)).toBe(true);
      expect((error as TimeoutError).phase).toBe('connect');
      expect((error as TimeoutError).timeoutMs).toBe(50);
    } finally {
      await client.close();
      silent.close();
    }
  });

  it('keeps the TLS error code when a TLS handshake fails', async () => {
    const client = createClient([undiciTransport()]);
    try {
      // A plain HTTP server answering a TLS ClientHello: OpenSSL reports a protocol error.
      const error = await rejectionOf(client.get(`https://127.0.0.1:${server.port}/`));
      expect(isTransportError(error)).toBe(true);
      expect((error as TransportError).code).toMatch(/^(ERR_SSL_|EPROTO|ECONNRESET)/);
      expect((error as TransportError).cause).toBeDefined();
    } finally {
      await client.close();
    }
  });
});

describe('undiciTransport options', () => {
  it('exports its defaults', () => {
    expect(DEFAULT_UNDICI_TRANSPORT_OPTIONS).toEqual({
      connections: Number.POSITIVE_INFINITY,
      pipelining: 1,
      keepAliveTimeoutMs: 4000,
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 300_000,
      bodyTimeoutMs: 300_000,
      closeTimeoutMs: 10_000,
      proxy: 'env',
      allowH2: false,
    });
  });

  it('accepts explicit undefined as the default and valid values', async () => {
    const transport = undiciTransport({
      connections: 10,
      pipelining: 0,
      keepAliveTimeoutMs: undefined,
      connectTimeoutMs: 1000,
      headersTimeoutMs: 0,
      bodyTimeoutMs: 0,
      maxResponseBytes: Number.POSITIVE_INFINITY,
    });
    await transport.close();
  });

  const invalid: [string, UndiciTransportOptions | null, string][] = [
    ['connections', { connections: 0 }, 'connections'],
    ['connections', { connections: 1.5 }, 'connections'],
    ['pipelining', { pipelining: -1 }, 'pipelining'],
    ['keepAliveTimeoutMs', { keepAliveTimeoutMs: 0 }, 'keepAliveTimeoutMs'],
    ['connectTimeoutMs', { connectTimeoutMs: Number.NaN }, 'connectTimeoutMs'],
    ['headersTimeoutMs', { headersTimeoutMs: -5 }, 'headersTimeoutMs'],
    ['bodyTimeoutMs', { bodyTimeoutMs: Number.POSITIVE_INFINITY }, 'bodyTimeoutMs'],
    ['maxResponseBytes', { maxResponseBytes: -1 }, 'maxResponseBytes'],
    ['maxResponseBytes', { maxResponseBytes: '10' as unknown as number }, 'maxResponseBytes'],
    ['dispatcher', { dispatcher: {} as never }, 'dispatcher'],
    ['proxy', { proxy: 'ftp://127.0.0.1:21' }, 'proxy'],
    ['proxy', { proxy: 'not a url' }, 'proxy'],
    [
      'proxyAuth',
      { proxy: 'http://127.0.0.1:3128', proxyAuth: { username: 'u' } as never },
      'proxyAuth',
    ],
    ['proxyAuth', { proxy: false, proxyAuth: 'Basic dTpw' }, 'proxyAuth'],
    ['proxyAuth', { proxy: 'http://u:p@127.0.0.1:3128', proxyAuth: 'Basic dTpw' }, 'proxyAuth'],
    ['tls', { tls: 'yes' as never }, 'tls'],
    ['tls.minVersion', { tls: { minVersion: 'TLSv9' as never } }, 'tls.minVersion'],
    [
      'tls.rejectUnauthorized',
      { tls: { rejectUnauthorized: 'no' as never } },
      'tls.rejectUnauthorized',
    ],
    ['tls.key', { tls: { cert: 'pem' } }, 'tls.key'],
    ['tls.ciphers', { tls: { ciphers: 'x' } as never }, 'tls.ciphers'],
    ['allowH2', { allowH2: 1 as never }, 'allowH2'],
    ['logger', { logger: {} as never }, 'logger'],
    ['options', null, 'options'],
  ];
  it.each(invalid)('throws ConfigError naming %s and the bad value', (_name, options, option) => {
    let error: unknown;
    try {
      undiciTransport(options as UndiciTransportOptions);
    } catch (caught) {
      error = caught;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as ConfigError).option).toBe(option);
    // The pair check and an unknown key have no value to quote.
    const quoted = option === 'tls.key' || option === 'tls.ciphers' ? '' : ':';
    expect((error as ConfigError).message).toContain(`Invalid option ${option}${quoted}`);
  });

  it('never puts proxy credentials in a ConfigError', () => {
    for (const proxyAuth of ['Basic c2VjcmV0', { username: 'u', password: 'secret' }] as const) {
      expect(() => undiciTransport({ proxy: 'http://u:secret@127.0.0.1:1', proxyAuth })).toThrow(
        /\[redacted\]/i,
      );
    }
    const error = (() => {
      try {
        undiciTransport({
          proxy: 'http://127.0.0.1:1',
          proxyAuth: { username: 'u', password: 7 } as never,
        });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).not.toContain('7');
  });

  it('refuses connection options (proxy, tls, allowH2) together with a dispatcher passed in', async () => {
    const agent = new Agent();
    try {
      for (const option of [{ proxy: false }, { tls: {} }, { allowH2: true }] as const) {
        expect(() => undiciTransport({ dispatcher: agent, ...option })).toThrow(ConfigError);
      }
    } finally {
      await agent.close();
    }
  });

  it('refuses Agent options together with a dispatcher passed in', async () => {
    const agent = new Agent();
    try {
      expect(() => undiciTransport({ dispatcher: agent, connections: 4 })).toThrow(ConfigError);
      expect(() => undiciTransport({ dispatcher: agent, connections: 4 })).toThrow(
        /connections: 4/,
      );
    } finally {
      await agent.close();
    }
  });
});
