// Local ports for the kit's servers and launchers (test server, raw server, tinyproxy, Redis): a
// free port on 127.0.0.1, waiting until a spawned process listens, closing a server with its sockets.
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A port of 127.0.0.1 that was free a moment ago, for a process that takes its port on the
 * command line (redis-server, tinyproxy). Another process may take it first: retry on failure.
 * @example
 * const port = await freePort();
 * spawn('redis-server', ['--port', String(port)]);
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.unref();
  });
}

/**
 * Resolves `true` once something accepts connections on `127.0.0.1:port`, `false` when `gaveUp()`
 * says to stop (the process exited) or after `timeoutMs`. Polls every 10 ms.
 * @example
 * const child = spawn(bin, args);
 * if (!(await waitForPort(port, () => child.exitCode !== null))) throw new Error('did not start');
 */
export async function waitForPort(
  port: number,
  gaveUp: () => boolean = () => false,
  timeoutMs = 5_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!gaveUp() && Date.now() < deadline) {
    if (await canConnect(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

/** A server listening on 127.0.0.1, port 0, with what closing it takes. */
export interface LocalListener {
  /** The port it listens on. */
  port: number;
  /** Destroys every open socket (keep-alive ones included) and closes the server. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1:0 and tracks every accepted socket, so `close()` never waits for an idle
 * keep-alive connection. Calls `onSocket` for each accepted socket.
 * @example
 * const { port, close } = await listenLocal(createServer(handler));
 */
export async function listenLocal(
  server: Server,
  onSocket?: (socket: Socket) => void,
): Promise<LocalListener> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onSocket?.(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
