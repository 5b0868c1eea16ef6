// The kit's local servers and launchers, on real sockets: the raw server, the port helpers and
// the Redis launcher (a real redis-server: REDIS_SERVER_BIN or redis-server on PATH).
import { connect, createServer } from 'node:net';
import { freePort, listenLocal, waitForPort } from './net.js';
import { rawResponse, startRawServer } from './raw-server.js';
import { startRedisServer } from './redis-server.js';

/** Sends raw bytes and resolves with everything the server wrote until it ended the answer. */
function exchange(port: number, bytes: string, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (until(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.once('error', reject);
    socket.write(bytes);
  });
}

/** Sends a Redis command in RESP and resolves with the first reply line. */
function redisCommand(port: number, ...args: string[]): Promise<string> {
  const command = `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;
  return exchange(port, command, (text) => text.includes('\r\n')).then((t) => t.split('\r\n')[0]!);
}

describe('startRawServer', () => {
  it('parses pipelined request heads, skips their bodies and counts connections and bytes', async () => {
    const raw = await startRawServer((req, socket) => {
      socket.write(rawResponse(200, `${req.method} ${req.path}`, ['x-conn: 1']));
    });
    try {
      const request =
        'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /b HTTP/1.1\r\nHost: x\r\n\r\n';
      const text = await exchange(raw.port, request, (t) => t.includes('GET /b'));
      expect(text).toContain('content-length: 7\r\n');
      expect(text).toContain('POST /a');
      expect(raw.requests.map((r) => [r.method, r.path, r.connection])).toEqual([
        ['POST', '/a', 0],
        ['GET', '/b', 0],
      ]);
      expect(raw.requests[0]!.headers).toContainEqual(['content-length', '3']);
      expect(raw.bytes).toBe(Buffer.byteLength(request));
      expect(raw.connections).toBe(1);
    } finally {
      await raw.close();
    }
  });
});

describe('freePort, waitForPort and listenLocal', () => {
  it('waits until something listens, and gives up when told to', async () => {
    const port = await freePort();
    expect(await waitForPort(port, () => true)).toBe(false);
    const server = createServer();
    const listening = waitForPort(port);
    server.listen(port, '127.0.0.1');
    try {
      expect(await listening).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('closes a server although a client keeps its connection open', async () => {
    const listener = await listenLocal(createServer(() => {}));
    const socket = connect(listener.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await listener.close();
    await closed;
  });
});

describe('startRedisServer', () => {
  it('answers PING, stops answering when killed and comes back empty on the same port', async () => {
    const redis = await startRedisServer();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await redisCommand(redis.port, 'SET', 'k', 'v')).toBe('+OK');
      await redis.kill();
      expect(await waitForPort(redis.port, () => false, 100)).toBe(false);
      await redis.start();
      expect(await redisCommand(redis.port, 'EXISTS', 'k')).toBe(':0');
    } finally {
      await redis.stop();
    }
  });
});
