import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Client,
  createClient,
  type HttpResponse,
  isHttpStatusError,
  isTransportError,
} from '@extapi/core';
import { freePort, startTestServer, type TestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { dedupe } from './dedupe.js';
import { expectStatus } from './expect-status.js';
import { retry } from './retry/index.js';

/** A server that holds every response until the test opens the gate, and says when requests arrive. */
function gatedServer() {
  let open!: () => void;
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const arrived: Array<() => void> = [];
  const closings: Array<() => void> = [];
  const closedEarly: IncomingMessage[] = [];
  let status = 200;
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    res.on('close', () => {
      if (res.writableFinished) return;
      closedEarly.push(req);
      for (const resolve of closings.splice(0)) resolve();
    });
    for (const resolve of arrived.splice(0)) resolve();
    await gate;
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', 'x-path': req.url ?? '' });
    res.end(
      req.method === 'HEAD'
        ? undefined
        : JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null }),
    );
  };
  return {
    handler,
    closedEarly,
    /** Resolves when the next request arrives. */
    nextArrival: () => new Promise<void>((resolve) => arrived.push(resolve)),
    /** Resolves when the next request is closed before its response was sent. */
    nextEarlyClose: () => new Promise<void>((resolve) => closings.push(resolve)),
    open: () => open(),
    reset(nextStatus = 200) {
      status = nextStatus;
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
  };
}

describe('dedupe() against a real server with the undici transport', () => {
  const gated = gatedServer();
  let server: TestServer;
  let client: Client;
  beforeAll(async () => {
    server = await startTestServer(gated.handler);
    client = createClient([dedupe(), expectStatus(), undiciTransport()], { baseUrl: server.url });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });
  beforeEach(() => {
    gated.reset();
    server.arrivals.length = 0;
    gated.closedEarly.length = 0;
  });

  it('sends one request for 100 concurrent identical calls and gives every caller the body', async () => {
    const first = gated.nextArrival();
    const calls = Array.from({ length: 100 }, () => client.get('/config'));
    await first;
    gated.open();
    const responses = await Promise.all(calls);
    expect(server.arrivals).toHaveLength(1);
    expect(new Set(responses).size).toBe(100);
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-path')).toBe('/config');
      expect(await res.json()).toEqual({ path: '/config', auth: null });
    }
  });

  it('gives each caller its own body bytes and headers', async () => {
    const calls = [client.get('/own'), client.get('/own')];
    gated.open();
    const [a, b] = (await Promise.all(calls)) as [HttpResponse, HttpResponse];
    const bytesA = await a.bytes();
    const original = Buffer.from(await b.bytes()).toString();
    bytesA.fill(0x20);
    a.headers.set('x-path', 'changed');
    expect(Buffer.from(await b.bytes()).toString()).toBe(original);
    expect(b.headers.get('x-path')).toBe('/own');
    expect(server.arrivals).toHaveLength(1);
  });

  it('sends separate requests for different URLs, headers, credentials and methods', async () => {
    const variants: Array<() => Promise<HttpResponse>> = [
      () => client.get('/a'),
      () => client.get('/b'),
      () => client.get('/a', { query: { page: 2 } }),
      () => client.get('/a', { headers: { 'x-tenant': 'one' } }),
      () => client.get('/a', { headers: { authorization: 'Bearer alice' } }),
      () => client.get('/a', { headers: { authorization: 'Bearer bob' } }),
      () => client.head('/a'),
    ];
    // Two of each at once: each pair shares, no two variants do.
    const calls = variants.flatMap((call) => [call(), call()]);
    gated.open();
    const responses = await Promise.all(calls);
    expect(server.arrivals).toHaveLength(variants.length);
    const auth = (i: number) => responses[i]!.json<{ auth: string | null }>().then((b) => b.auth);
    expect([await auth(8), await auth(9)]).toEqual(['Bearer alice', 'Bearer alice']);
    expect([await auth(10), await auth(11)]).toEqual(['Bearer bob', 'Bearer bob']);
    expect(await responses[12]!.text()).toBe('');
  });

  it('lets a caller that aborts leave without disturbing the others', async () => {
    const first = gated.nextArrival();
    const leaving = new AbortController();
    const calls = [
      client.get('/slow', { signal: leaving.signal }),
      client.get('/slow'),
      client.get('/slow'),
    ];
    await first;
    const reason = new Error('caller gave up');
    leaving.abort(reason);
    await expect(calls[0]).rejects.toBe(reason);
    gated.open();
    for (const res of await Promise.all(calls.slice(1))) {
      expect(await res.json()).toEqual({ path: '/slow', auth: null });
    }
    expect(server.arrivals).toHaveLength(1);
    expect(gated.closedEarly).toHaveLength(0);
  });

  it('ends a caller at its own deadline while the others keep waiting', async () => {
    const first = gated.nextArrival();
    const hurried = client.get('/deadline', { timeoutMs: 50 });
    const patient = client.get('/deadline');
    await first;
    await expect(hurried).rejects.toMatchObject({ name: 'TimeoutError', timeoutMs: 50 });
    gated.open();
    expect(await (await patient).json()).toEqual({ path: '/deadline', auth: null });
    expect(server.arrivals).toHaveLength(1);
    expect(gated.closedEarly).toHaveLength(0);
  });

  it('aborts the shared request once every caller has left', async () => {
    const first = gated.nextArrival();
    const controllers = [new AbortController(), new AbortController()];
    const calls = controllers.map((c) => client.get('/abandoned', { signal: c.signal }));
    await first;
    const closed = gated.nextEarlyClose();
    controllers[0]!.abort();
    await expect(calls[0]).rejects.toMatchObject({ name: 'AbortError' });
    // One caller still waits: the request stays open.
    expect(gated.closedEarly).toHaveLength(0);
    controllers[1]!.abort();
    await expect(calls[1]).rejects.toMatchObject({ name: 'AbortError' });
    await closed;
    expect(gated.closedEarly).toHaveLength(1);
    // A new identical call does not join the abandoned request.
    const again = client.get('/abandoned');
    gated.open();
    expect((await again).status).toBe(200);
    expect(server.arrivals).toHaveLength(2);
  });

  it('gives every caller the error of a 500 with expectStatus()', async () => {
    gated.reset(500);
    const calls = Array.from({ length: 5 }, () => client.get('/fails').catch((e: unknown) => e));
    gated.open();
    const errors = await Promise.all(calls);
    expect(server.arrivals).toHaveLength(1);
    for (const error of errors) {
      expect(isHttpStatusError(error)).toBe(true);
      expect((error as { status: number }).status).toBe(500);
    }
  });

  it('does not deduplicate calls made one after the other', async () => {
    gated.open();
    await client.get('/seq');
    await client.get('/seq');
    expect(server.arrivals).toHaveLength(2);
  });

  it('never deduplicates POST', async () => {
    gated.open();
    await Promise.all([
      client.post('/p', { json: { n: 1 } }),
      client.post('/p', { json: { n: 1 } }),
      client.post('/p', { json: { n: 1 } }),
    ]);
    expect(server.arrivals).toHaveLength(3);
  });

  it('passes streamed calls (readBody: false) through', async () => {
    gated.open();
    const responses = await Promise.all([
      client.get('/stream', { readBody: false }),
      client.get('/stream', { readBody: false }),
    ]);
    for (const res of responses) expect(await res.json()).toEqual({ path: '/stream', auth: null });
    expect(server.arrivals).toHaveLength(2);
  });
});

describe('dedupe() with other failures', () => {
  it('gives every caller the error of a refused connection', async () => {
    const port = await freePort();
    const client = createClient([dedupe(), undiciTransport()], {
      baseUrl: `http://127.0.0.1:${port}`,
    });
    try {
      const errors = await Promise.all(
        Array.from({ length: 5 }, () => client.get('/x').catch((e: unknown) => e)),
      );
      for (const error of errors) {
        expect(isTransportError(error)).toBe(true);
        expect((error as { code: string }).code).toBe('ECONNREFUSED');
      }
    } finally {
      await client.close();
    }
  });

  it('retries the shared call once for everyone when placed above retry()', async () => {
    let served = 0;
    const server = await startTestServer((_req, res) => {
      served++;
      res.writeHead(served === 1 ? 503 : 200);
      res.end('ok');
    });
    const client = createClient(
      [dedupe(), retry({ backoff: { baseMs: 1, maxMs: 1 } }), expectStatus(), undiciTransport()],
      { baseUrl: server.url },
    );
    try {
      const responses = await Promise.all(Array.from({ length: 10 }, () => client.get('/r')));
      for (const res of responses) expect(await res.text()).toBe('ok');
      expect(server.arrivals).toHaveLength(2);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
