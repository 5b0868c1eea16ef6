// A server that speaks HTTPS and plain HTTP on ONE port (by the first byte), so only the scheme
// differs; its certificate is the test kit's (createTlsFixtures: trust it with the kit's `ca`).
import { createTlsFixtures } from '@extapi/core/testing';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

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
  const { cert, key } = createTlsFixtures().server;
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
