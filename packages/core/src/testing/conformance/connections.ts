// Conformance cases, connections: keep-alive reuse and what discard() does to the connection.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { atLeast, atMost } from './checks.js';
import { patternBytes } from './server.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "connections" cases of the conformance suite. */
export function connectionCases(s: SuiteContext, test: AddCase): void {
  test('1000 sequential requests reuse connections: at most 2 are opened (keep-alive)', async () => {
    const counted = await s.newServer((_req, res) => {
      res.end('ok');
    });
    const pooled = s.newClient({ baseUrl: counted.url });
    for (let i = 0; i < 1000; i++) {
      const res = await pooled.get('/');
      if (res.status !== 200) throw new Error(`request ${i} answered ${res.status}`);
    }
    atLeast(counted.connections, 1);
    atMost(counted.connections, 2);
  }, 30_000);

  test('discard() of a small unread body returns the connection to the pool', async () => {
    const payload = patternBytes(16 * 1024);
    const counted = await s.newServer((req, res) => {
      if (req.url === '/small') {
        res.writeHead(200, { 'content-length': payload.length });
        res.end(payload);
      } else res.end('ok');
    });
    const pooled = s.newClient({ baseUrl: counted.url });
    for (let i = 0; i < 10; i++) {
      const res = await pooled.get('/small', { readBody: false });
      assert.ok(res.body instanceof Readable);
      await res.discard();
      assert.equal(await (await pooled.get('/ok')).text(), 'ok');
    }
    // undici (fetch's engine too) settles on two sockets for strictly sequential calls; a
    // discard() that destroyed the socket would have opened one per iteration.
    atMost(counted.connections, 2);
  });

  test('discard() of a small body still arriving waits for its end and reuses the connection', async () => {
    const counted = await s.newServer((req, res) => {
      if (req.url !== '/trickle') {
        res.end('ok');
        return;
      }
      // Half the body now, half later: discard() comes while the connection is still busy.
      res.writeHead(200, { 'content-length': 2048 });
      res.write(Buffer.alloc(1024, 1));
      setTimeout(() => res.end(Buffer.alloc(1024, 2)), 30);
    });
    const pooled = s.newClient({ baseUrl: counted.url });
    for (let i = 0; i < 6; i++) {
      const res = await pooled.get('/trickle', { readBody: false });
      await res.discard();
      assert.equal(await (await pooled.get('/ok')).text(), 'ok');
    }
    // A discard() that destroyed the half-read body would have cost a connection per iteration.
    atMost(counted.connections, 2);
  });

  test('discard() of an endless unread body destroys it instead of draining forever', async () => {
    const res = await s.client.get('/endless', { readBody: false });
    await res.discard();
    assert.equal((await s.client.get('/status/200')).status, 200);
  });

  test('a body read to its end releases the connection for the next request', async () => {
    const counted = await s.newServer((_req, res) => {
      res.end('x'.repeat(50_000));
    });
    const pooled = s.newClient({ baseUrl: counted.url });
    for (let i = 0; i < 10; i++) {
      const res = await pooled.get('/', { readBody: false });
      assert.equal((await res.text()).length, 50_000);
    }
    atMost(counted.connections, 2);
  });
}
