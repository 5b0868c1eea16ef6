// Transport holes of issue 12 on both backends: credentials in option errors and unparsable
// redirects, unchecked transport options, lying request lengths on stream bodies, close() on a silent server.
import { createServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { rawResponse, startRawServer } from '@extapi/core/testing';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { type ConfigError, type ExtapiError, isConfigError } from '@extapi/core';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

const SECRET = 'PW-s3cret-value';

/** The error `fn` throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** Everything a log line or console.error could print of an error, its causes included. */
function printed(error: unknown): string {
  const e = error as Error;
  return [e.message, e.stack, inspect(e, { depth: 10, showHidden: true })].join('\n');
}

/** A TCP server that keeps what each connection sent, and whether the connection has closed. */
async function startRecordingServer() {
  const received: { data: Buffer; closed: Promise<void> }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const entry = { data: Buffer.alloc(0), closed: Promise.resolve() };
    entry.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    received.push(entry);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      entry.data = Buffer.concat([entry.data, chunk]);
    });
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('transport options never quote a credential (issue 12 #2)', () => {
  it.each([
    [
      'undiciTransport({ proxy: socks5 URL })',
      () => undiciTransport({ proxy: `socks5://u:${SECRET}@127.0.0.1:1080` }),
    ],
    [
      'undiciTransport({ proxy: unparsable URL })',
      () => undiciTransport({ proxy: `http://u:${SECRET}@[::1` }),
    ],
    [
      'undiciTransport({ proxyAuth: number })',
      () =>
        undiciTransport({
          proxy: 'http://127.0.0.1:1',
          proxyAuth: { username: 'u', password: SECRET, extra: 1 } as never,
        }),
    ],
    [
      'undiciTransport({ tls: { passphrase: object } })',
      () => undiciTransport({ tls: { passphrase: { SECRET } as never } }),
    ],
    [
      'undiciTransport({ tls: { key: number } })',
      () => undiciTransport({ tls: { cert: 'x', key: [SECRET, 5] as never } }),
    ],
    [
      'fetchTransport({ proxy })',
      () => fetchTransport({ proxy: `http://u:${SECRET}@127.0.0.1:3128` } as never),
    ],
    [
      'fetchTransport({ proxyAuth })',
      () => fetchTransport({ proxyAuth: `Basic ${SECRET}` } as never),
    ],
    [
      'fetchTransport({ init: { headers } })',
      () => fetchTransport({ init: { headers: { authorization: SECRET } } }),
    ],
  ])(
    '%s: a ConfigError whose message, stack and inspect output hold no credential',
    (_name, make) => {
      const error = thrown(make);
      expect(isConfigError(error)).toBe(true);
      expect(printed(error)).not.toContain(SECRET);
    },
  );
});

describe('transport options are type-checked at creation (issue 12 #13)', () => {
  it.each([
    ['tls.ca', { tls: { ca: 5 } }],
    ['tls.passphrase', { tls: { passphrase: {} } }],
    ['tls.cert', { tls: { cert: [], key: 'k' } }],
    ['tls.servername', { tls: { servername: 7 } }],
    ['closeTimeoutMs', { closeTimeoutMs: -1 }],
    ['headersTimeoutMs', { headersTimeoutMs: 3e9 }],
  ])('undiciTransport refuses %s of the wrong type', (option, options) => {
    const error = thrown(() => undiciTransport(options as never));
    expect(isConfigError(error)).toBe(true);
    expect((error as ConfigError).option).toBe(option);
  });

  it.each([
    ['undiciTransport', () => undiciTransport({ maxResponseByte: 1 } as never), 'maxResponseBytes'],
    [
      'undiciTransport',
      () => undiciTransport({ tls: { rejectUnauthorised: false } } as never),
      'rejectUnauthorized',
    ],
    ['fetchTransport', () => fetchTransport({ headersTimeout: 1 } as never), 'headersTimeoutMs'],
    ['fetchTransport', () => fetchTransport({ maxContentLength: 1 } as never), 'maxResponseBytes'],
  ])('%s refuses an unknown option with a did-you-mean', (_name, make, hint) => {
    const error = thrown(make);
    expect(isConfigError(error)).toBe(true);
    expect(error.message).toContain(`did you mean ${hint}?`);
  });

  it('reads own properties only: an inherited tls or proxy changes nothing', async () => {
    const options = Object.create({ tls: { ca: 5 }, proxy: `socks5://u:${SECRET}@x` });
    const transport = undiciTransport(options);
    await transport.close();
    fetchTransport(Object.create({ proxy: 'http://x' }));
  });
});

describe.each(TRANSPORTS)('transport hardening over %s', (_name, kind) => {
  const guard = useGuard();

  it('an unparsable Location keeps no credential in the error or its cause (issue 12 #2)', async () => {
    const raw = await startRawServer((_req, socket) => {
      socket.write(rawResponse(302, '', [`location: http://u:${SECRET}@[::1`]));
    });
    guard.defer(() => raw.close());
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    const error = await client.get('/').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as ExtapiError).code).toBe('ERR_UNSAFE_REDIRECT');
    expect(printed(error)).not.toContain(SECRET);
  });

  it.each([
    ['the declared length is reached and more follows', ['hello', ' world']],
    ['a chunk crosses the declared length', ['hel', 'lo world']],
  ])(
    'a stream body longer than its content-length never reaches the server as a complete request: %s (issue 12 #17)',
    async (_case, chunks) => {
      const server = await startRecordingServer();
      guard.defer(() => server.close());
      const client = guard.client([kind.make(guard)], { baseUrl: server.url });
      const error = await client
        .post('/upload', {
          body: Readable.from(chunks.map((chunk) => Buffer.from(chunk))),
          headers: { 'content-length': '5', 'content-type': 'text/plain' },
        })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(isConfigError(error)).toBe(true);
      expect((error as ConfigError).option).toBe('headers.content-length');
      // The connection is gone, and what the server got holds fewer than the 5 declared body bytes.
      await Promise.all(server.received.map((each) => each.closed));
      for (const { data } of server.received) {
        const head = data.indexOf('\r\n\r\n');
        const body = head === -1 ? '' : data.subarray(head + 4).toString('latin1');
        expect(body).not.toContain('hello');
        expect(body.replace(/^[0-9a-f]+\r\n/i, '').length).toBeLessThan(5);
      }
    },
  );

  it('a stream body that matches its content-length is sent as it is', async () => {
    const raw = await startRawServer((_req, socket) => socket.write(rawResponse(200, 'ok')));
    guard.defer(() => raw.close());
    const client = guard.client([kind.make(guard)], { baseUrl: raw.url });
    const res = await client.post('/upload', {
      body: Readable.from([Buffer.from('hel'), Buffer.from('lo')]),
      headers: { 'content-length': '5' },
    });
    expect(await res.text()).toBe('ok');
  });
});

describe('undiciTransport close() (issue 12 #12)', () => {
  const guard = useGuard();

  it('destroys the connections of calls still waiting on a silent server after closeTimeoutMs', async () => {
    const raw = await startRawServer(() => {
      // Never answers.
    });
    guard.defer(() => raw.close());
    const transport = undiciTransport({ closeTimeoutMs: 200 });
    const client = guard.client([transport], { baseUrl: raw.url });
    const pending = client.get('/silent').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    while (raw.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await transport.close();
    const error = (await pending) as ExtapiError;
    expect(error.code).toBe('ERR_TRANSPORT_CLOSED');
  });

  it('lets a call in flight finish within closeTimeoutMs', async () => {
    const raw = await startRawServer((_req, socket) => {
      setTimeout(() => socket.write(rawResponse(200, 'late but fine')), 100);
    });
    guard.defer(() => raw.close());
    const transport = undiciTransport({ closeTimeoutMs: 30_000 });
    const client = guard.client([transport], { baseUrl: raw.url });
    const pending = client.get('/slow');
    while (raw.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const closed = transport.close();
    expect(await (await pending).text()).toBe('late but fine');
    await closed;
  });
});
