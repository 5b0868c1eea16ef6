// A raw TCP server that speaks just enough HTTP/1.1 for wire-level cases: it counts connections and
// every byte received, and lets a case write any bytes back (bogus lengths, resets, endless bodies).
import { createServer, type Server, type Socket } from 'node:net';

/** One request as the raw server parsed it (head only; a content-length body is skipped). */
export interface RawRequest {
  method: string;
  path: string;
  /** Header lines as received, names lower-cased. */
  headers: [string, string][];
  /** Which accepted connection (0-based) it came on. */
  connection: number;
}

/** Answers one request by writing to `socket` (keep-alive: return without ending it). */
export type RawHandler = (req: RawRequest, socket: Socket) => void;

export interface RawServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Bytes received over every connection. */
  readonly bytes: number;
  readonly requests: RawRequest[];
  close(): Promise<void>;
}

/**
 * Starts a raw HTTP/1.1 server on 127.0.0.1:0. Each request head is parsed and handed to `handler`,
 * which writes the answer byte for byte.
 * @example
 * const raw = await startRawServer((req, socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
 */
export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const requests: RawRequest[] = [];
  let connections = 0;
  let bytes = 0;
  const server = createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    let skip = 0;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buffer.byteLength);
          buffer = buffer.subarray(n);
          skip -= n;
          if (skip > 0) return;
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        const [line = '', ...rest] = head.split('\r\n');
        const [method = '', path = ''] = line.split(' ');
        const headers = rest.map((h): [string, string] => {
          const colon = h.indexOf(':');
          return [h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim()];
        });
        const length = headers.find(([name]) => name === 'content-length');
        skip = length ? Number(length[1]) : 0;
        const req = { method, path, headers, connection };
        requests.push(req);
        handler(req, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    get connections() {
      return connections;
    },
    get bytes() {
      return bytes;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A complete keep-alive response with a body. */
export function rawResponse(status: number, body = '', headers: string[] = []): string {
  return [
    `HTTP/1.1 ${status} X`,
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: keep-alive',
    ...headers,
    '',
    body,
  ].join('\r\n');
}
