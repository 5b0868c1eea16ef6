// A raw TCP server that speaks just enough HTTP/1.1 for wire-level tests: it counts connections and
// every byte received, and lets a test write any bytes back (bogus lengths, resets, endless bodies).
import { createServer, type Server, type Socket } from 'node:net';
import { listenLocal } from './net.js';

/** One request as the raw server parsed it (head only; a content-length body is skipped). */
export interface RawRequest {
  /** The request method. */
  method: string;
  /** The request target as received. */
  path: string;
  /** Header lines as received, names lower-cased. */
  headers: [string, string][];
  /** Which accepted connection (0-based) it came on. */
  connection: number;
}

/** Answers one request by writing to `socket` (keep-alive: return without ending it). */
export type RawHandler = (req: RawRequest, socket: Socket) => void;

/** A running {@link startRawServer}. */
export interface RawServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The underlying net server. */
  readonly server: Server;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Bytes received over every connection. */
  readonly bytes: number;
  /** Every request parsed so far. */
  readonly requests: RawRequest[];
  /** Destroys open sockets and closes the server. */
  close(): Promise<void>;
}

/**
 * Starts a raw HTTP/1.1 server on 127.0.0.1:0. Each request head is parsed and handed to `handler`,
 * which writes the answer byte for byte; use {@link startTestServer} for anything node:http can say.
 * @example
 * const raw = await startRawServer((req, socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
 */
export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const requests: RawRequest[] = [];
  let connections = 0;
  let bytes = 0;
  const server = createServer((socket) => {
    const connection = connections++;
    socket.on('error', () => {});
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
  const { port, close } = await listenLocal(server);
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
    close,
  };
}

/**
 * A complete keep-alive HTTP/1.1 response with a body, for a {@link RawHandler} to write.
 * @example
 * socket.write(rawResponse(200, 'ok', ['content-type: text/plain']));
 */
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
