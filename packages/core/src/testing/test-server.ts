// A real node:http server on 127.0.0.1 at a random port, for transport and end-to-end tests.
// It counts connections and in-flight requests so tests can assert pooling and limits.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** How many TCP connections were accepted so far. */
  readonly connections: number;
  /** Requests being handled right now, and the peak. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Every request's arrival time (ms, `performance.now()`), method and URL. */
  readonly arrivals: { at: number; method: string; url: string }[];
  /** Closes the server and destroys open sockets. */
  close(): Promise<void>;
}

/**
 * Starts a real HTTP server on 127.0.0.1:0 with `handler`.
 * @example
 * const server = await startTestServer((req, res) => res.end('hi'));
 * try { await client.get(`${server.url}/`); } finally { await server.close(); }
 */
export async function startTestServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const arrivals: { at: number; method: string; url: string }[] = [];
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    arrivals.push({ at: performance.now(), method: req.method ?? '', url: req.url ?? '' });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.once('close', finish);
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    get connections() {
      return connections;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
