// A self-signed certificate for 127.0.0.1 made with the openssl CLI in the test run, and a server
// that speaks HTTPS and plain HTTP on ONE port (by the first byte), so only the scheme differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSigned {
  cert: string;
  key: string;
}

let cached: SelfSigned | undefined;

/** A self-signed EC certificate for 127.0.0.1 (made once per process); trust it by passing it as `ca`. */
export function selfSigned(): SelfSigned {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'extapi-hardening-tls-'));
  try {
    execFileSync(
      process.env.OPENSSL_BIN || 'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cached = {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DualServer {
  readonly port: number;
  readonly httpsUrl: string;
  readonly httpUrl: string;
  close(): Promise<void>;
}

/**
 * One port, two schemes: a connection whose first byte is a TLS handshake (0x16) is piped to an
 * HTTPS server, any other to a plain HTTP one, both running `handler`.
 */
export async function startDualServer(handler: RequestListener): Promise<DualServer> {
  const { cert, key } = selfSigned();
  const https = createHttpsServer({ cert, key }, handler);
  const http = createHttpServer(handler);
  const listen = (server: Server) =>
    new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
  const [httpsPort, httpPort] = await Promise.all([listen(https), listen(http)]);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  };
  https.on('connection', track);
  http.on('connection', track);
  const front = createServer((socket) => {
    track(socket);
    socket.once('data', (chunk: Buffer) => {
      const back = connect(chunk[0] === 0x16 ? httpsPort : httpPort, '127.0.0.1');
      track(back);
      back.write(chunk);
      socket.pipe(back).pipe(socket);
      socket.once('close', () => back.destroy());
      back.once('close', () => socket.destroy());
    });
  });
  const port = await listen(front);
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    port,
    httpsUrl: `https://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([close(front), close(https), close(http)]);
    },
  };
}
