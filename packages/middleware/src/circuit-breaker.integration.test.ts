import { createClient, isCircuitOpenError } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { type CircuitStateChange, circuitBreaker } from './circuit-breaker.js';

describe('circuitBreaker() against a real server with the undici transport', () => {
  let server: TestServer;
  let healthy = false;
  beforeAll(async () => {
    server = await startTestServer((_req, res) => {
      res.writeHead(healthy ? 200 : 503);
      res.end(healthy ? 'ok' : 'down');
    });
  });
  afterAll(() => server.close());

  it('opens on 503s, sends nothing while open, then closes after a good probe', async () => {
    const clock = { t: 0 };
    const changes: CircuitStateChange[] = [];
    const transport = undiciTransport();
    const client = createClient(
      [
        circuitBreaker({
          minimumCalls: 4,
          openMs: 1_000,
          now: () => clock.t,
          onStateChange: (c) => changes.push(c),
        }),
        transport,
      ],
      { baseUrl: server.url },
    );
    try {
      for (let i = 0; i < 4; i++) expect((await client.get('/x')).status).toBe(503);
      const before = server.arrivals.length;
      for (let i = 0; i < 5; i++) {
        const error = await client.get('/x').catch((e: unknown) => e);
        expect(isCircuitOpenError(error)).toBe(true);
      }
      expect(server.arrivals.length).toBe(before);
      healthy = true;
      clock.t += 1_000;
      expect((await client.get('/x')).status).toBe(200);
      expect((await client.get('/x')).status).toBe(200);
      expect(server.arrivals.length).toBe(before + 2);
      expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
        'closed->open',
        'open->half-open',
        'half-open->closed',
      ]);
      expect(changes[0]!.key).toBe(server.url);
    } finally {
      healthy = false;
      await client.close();
    }
  });

  it('opens on socket resets and opens no connection while open', async () => {
    const resetting = await startTestServer((req) => {
      req.socket.destroy();
    });
    const breaker = circuitBreaker({ minimumCalls: 3, failureRatio: 1, openMs: 60_000 });
    const client = createClient([breaker, undiciTransport()], { baseUrl: resetting.url });
    try {
      for (let i = 0; i < 3; i++) {
        await expect(client.get('/')).rejects.toMatchObject({ name: 'TransportError' });
      }
      expect(breaker.state(resetting.url)).toBe('open');
      const connections = resetting.connections;
      const requests = resetting.arrivals.length;
      for (let i = 0; i < 3; i++) {
        await expect(client.get('/')).rejects.toMatchObject({ name: 'CircuitOpenError' });
      }
      expect(resetting.connections).toBe(connections);
      expect(resetting.arrivals.length).toBe(requests);
    } finally {
      await client.close();
      await resetting.close();
    }
  });
});
