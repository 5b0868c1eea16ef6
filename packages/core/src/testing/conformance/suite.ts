// What every conformance case sees: the shared client and servers, started once per suite, and
// helpers that make extra clients and servers closed with it. Subject files add cases to it.
import { type Client, createClient } from '../../client.js';
import type { ClientOptions } from '../../client-options.js';
import type { Transport } from '../../types.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../test-server.js';
import { createTlsFixtures } from '../tls-fixtures.js';
import { type Fixtures, makeFixtures, router } from './server.js';

/** What the suite may ask of the transport it builds (pass these on to your factory). */
export interface ConformanceTransportOptions {
  /** The transport-level `maxResponseBytes`, for the tests of that option. */
  maxResponseBytes?: number;
  /** The transport's deadline for the final response head (`headersTimeoutMs` of both backends). */
  headersTimeoutMs?: number;
  /** With `server: 'https'` or `'h2'`: the private CA the test servers' certificates are signed by. */
  tls?: {
    /** The CA certificate, PEM. */
    ca: string;
  };
}

/** The kind of server the suite runs against: `http`, `https`, or `h2` (node:http2 over TLS, no HTTP/1). */
export type ConformanceServerKind = 'http' | 'https' | 'h2';

/** A request handler of the test server. */
type Handler = Parameters<typeof startTestServer>[0];

/** Adds one case to the subject being built (`timeoutMs` for the few that need longer). */
export type AddCase = (title: string, run: () => Promise<void>, timeoutMs?: number) => void;

/** The state every case of one suite shares; `client`, `server`, `other` exist after `setup()`. */
export interface SuiteContext {
  /** The server kind, known when cases are built (some titles depend on it). */
  readonly kind: ConformanceServerKind;
  /** A client on its own transport with `baseUrl` = `server.url`. */
  client: Client;
  /** The test server with every route of server.ts. */
  server: TestServer;
  /** A second server with the same routes: another origin (another port) for redirects. */
  other: TestServer;
  /** The bodies the routes serve. */
  fixtures: Fixtures;
  /** A client on its own transport, closed after the suite. */
  newClient(clientOptions?: ClientOptions, extra?: ConformanceTransportOptions): Client;
  /** A server of the suite's kind with its own handler, closed after the suite. */
  newServer(handler: Handler): Promise<TestServer>;
  /** A server of the suite's kind that the case closes itself. */
  start(handler: Handler): Promise<TestServer>;
  /** Starts the fixtures, both servers and the shared client. */
  setup(): Promise<void>;
  /** Closes every client and server the suite made. */
  teardown(): Promise<void>;
}

/** Builds the shared state of one suite for a transport factory and a server kind. */
export function createSuiteContext(
  makeTransport: (options?: ConformanceTransportOptions) => Transport,
  kind: ConformanceServerKind,
): SuiteContext {
  const tls = kind === 'http' ? undefined : createTlsFixtures();
  const serverOptions: TestServerOptions = tls ? { tls: tls.server, http2: kind === 'h2' } : {};
  /** The transport options of every transport the suite builds: trust the test CA over TLS. */
  const transportOptions = (extra?: ConformanceTransportOptions) =>
    tls ? { ...extra, tls: { ca: tls.ca } } : extra;
  const extraClients: Client[] = [];
  const extraServers: TestServer[] = [];
  const s = {
    kind,
    newClient(clientOptions?: ClientOptions, extra?: ConformanceTransportOptions): Client {
      const made = createClient([makeTransport(transportOptions(extra))], clientOptions);
      extraClients.push(made);
      return made;
    },
    async newServer(handler: Handler): Promise<TestServer> {
      const started = await s.start(handler);
      extraServers.push(started);
      return started;
    },
    start: (handler: Handler) => startTestServer(handler, serverOptions),
    async setup(): Promise<void> {
      s.fixtures = makeFixtures();
      s.server = await s.start(router(s.fixtures));
      s.other = await s.start(router(s.fixtures));
      s.client = createClient([makeTransport(transportOptions())], { baseUrl: s.server.url });
    },
    async teardown(): Promise<void> {
      await Promise.allSettled([s.client?.close(), ...extraClients.map((c) => c.close())]);
      await Promise.allSettled([
        s.server?.close(),
        s.other?.close(),
        ...extraServers.map((server) => server.close()),
      ]);
    },
  } as SuiteContext;
  return s;
}
