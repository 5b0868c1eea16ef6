// A real node:http (or https, or http2) server on 127.0.0.1 at a random port, for transport and end-to-end tests.
// It counts connections and in-flight requests so tests can assert pooling and limits.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { listenLocal } from './net.js';

/** Options of {@link startTestServer}: plain HTTP unless `tls` is given. */
export interface TestServerOptions {
  /**
   * Serve HTTPS with this certificate (see `createTlsFixtures`); `ca` plus `requestCert: true`
   * makes the server require a client certificate signed by that CA.
   * @default undefined (plain HTTP)
   */
  tls?: {
    /** The server certificate, PEM. */
    cert: string;
    /** The server's private key, PEM. */
    key: string;
    /** A CA certificate (PEM) that client certificates must be signed by. */
    ca?: string;
    /** Ask clients for a certificate and reject those without a valid one. */
    requestCert?: boolean;
  };
  /** With `tls`: serve HTTP/2 only (node:http2, ALPN `h2`), through the HTTP/1 handler API. @default false */
  http2?: boolean;
}

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>`, or `https://` with `tls` (no trailing slash). */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;
  /** The underlying node server. */
  readonly server: Server;
  /** How many TCP connections were accepted so far. */
  readonly connections: number;
  /** Requests being handled right now, and the peak. */
  readonly inFlight: number;
  /** The peak of `inFlight` so far. */
  readonly maxInFlight: number;
  /** Every request's arrival time (ms, `performance.now()`), method and URL. */
  readonly arrivals: {
    /** Arrival time in ms (`performance.now()`). */
    at: number;
    /** The request method. */
    method: string;
    /** The request target as received (path and query). */
    url: string;
  }[];
  /** Closes the server and destroys open sockets. */
  close(): Promise<void>;
}

/**
 * Starts a real HTTP server on 127.0.0.1:0 with `handler` (HTTPS or HTTP/2 with `options`).
 * @example
 * const server = await startTestServer((req, res) => res.end('hi'));
 * try { await client.get(`${server.url}/`); } finally { await server.close(); }
 */
export async function startTestServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const arrivals: { at: number; method: string; url: string }[] = [];
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
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
  };
  const { tls } = options;
  const secure = tls && {
    ...tls,
    // A required client certificate is checked by TLS itself: an unknown one never reaches the handler.
    rejectUnauthorized: tls.requestCert === true,
  };
  // The http2 compatibility API hands the handler objects shaped like http's; the cast says so.
  const server = (
    secure
      ? options.http2
        ? createSecureServer({ ...secure, allowHTTP1: false }, onRequest as never)
        : createHttpsServer(secure, onRequest)
      : createServer(onRequest)
  ) as Server;
  const listener = await listenLocal(server, () => {
    connections++;
  });
  const { port } = listener;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
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
    close: listener.close,
  };
}
