// bearerAuth() and basicAuth() end to end: a real server on 127.0.0.1 that checks credentials,
// through both transports, with retry() in front as in a real stack.
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { createClient, type Transport } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { retry } from '../retry/index.js';
import { basicAuth } from './basic.js';
import { bearerAuth } from './bearer.js';

const transports: [string, () => Transport][] = [
  ['undici', () => undiciTransport()],
  ['fetch', () => fetchTransport()],
];

describe.each(transports)('auth end to end over the %s transport', (_name, makeTransport) => {
  let server: TestServer;
  let transport: Transport;
  let valid: string;
  const seen: (string | undefined)[] = [];

  beforeEach(async () => {
    seen.length = 0;
    valid = 'token-1';
    server = await startTestServer(async (req, res) => {
      seen.push(req.headers.authorization);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      // Spread the answers a little, so concurrent 401s arrive over time.
      await new Promise((resolve) => setTimeout(resolve, seen.length % 4));
      const ok =
        req.headers.authorization === `Bearer ${valid}` ||
        req.headers.authorization === `Basic ${Buffer.from('ü:pässword').toString('base64')}`;
      res.writeHead(ok ? 200 : 401, ok ? {} : { 'www-authenticate': 'Bearer' });
      res.end(ok ? `hello ${Buffer.concat(chunks).toString()}` : 'expired');
    });
    transport = makeTransport();
  });
  afterEach(async () => {
    await transport.close();
    await server.close();
  });

  test('20 concurrent 401s cause exactly one token refresh', async () => {
    let refreshes = 0;
    let cached = 'token-0';
    const getToken = async ({ refresh }: { refresh: boolean }) => {
      if (refresh) {
        refreshes++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        cached = valid;
      }
      return cached;
    };
    const client = createClient([retry(), bearerAuth(getToken), transport]);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.post(`${server.url}/me`, { body: `#${i}` })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(await responses[7]!.text()).toBe('hello #7');
    expect(refreshes).toBe(1);
    expect(seen.filter((a) => a === 'Bearer token-0')).toHaveLength(20);
    expect(seen.filter((a) => a === 'Bearer token-1')).toHaveLength(20);
  });

  test('returns the second 401 as it is when the fresh token is refused too', async () => {
    valid = 'never';
    let refreshes = 0;
    const client = createClient([
      bearerAuth(({ refresh }) => {
        if (refresh) refreshes++;
        return refresh ? 'fresh' : 'stale';
      }),
      transport,
    ]);
    const res = await client.get(`${server.url}/me`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('expired');
    expect(refreshes).toBe(1);
    expect(seen).toEqual(['Bearer stale', 'Bearer fresh']);
  });

  test('sends UTF-8 Basic credentials the server accepts', async () => {
    const client = createClient([basicAuth({ username: 'ü', password: 'pässword' }), transport]);
    const res = await client.get(`${server.url}/me`);
    expect(res.status).toBe(200);
    expect(seen).toEqual([`Basic ${Buffer.from('ü:pässword', 'utf8').toString('base64')}`]);
  });
});
