// TLS and mTLS with the fetch transport against real https servers on 127.0.0.1, with certificates
// made in the test run. fetch takes no TLS options: they travel in an undici Agent passed as init.dispatcher.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  type Client,
  createClient,
  isConfigError,
  isTransportError,
  type TransportError,
} from '@extapi/core';
import { createTlsFixtures, startTestServer, type TestServer } from '@extapi/core/testing';
import { Agent, fetch as undiciFetch } from 'undici';
import { type FetchTransportOptions, fetchTransport } from './index.js';

const tls = createTlsFixtures();

function whoami(req: IncomingMessage, res: ServerResponse): void {
  const peer = (req.socket as TLSSocket).getPeerCertificate();
  res.end(JSON.stringify({ client: peer?.subject?.CN ?? null }));
}

let trusted: TestServer;
let mutual: TestServer;
let expired: TestServer;
let wrongHost: TestServer;
const agents: Agent[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  [trusted, mutual, expired, wrongHost] = await Promise.all([
    startTestServer(whoami, { tls: tls.server }),
    startTestServer(whoami, { tls: { ...tls.server, ca: tls.ca, requestCert: true } }),
    startTestServer(whoami, { tls: tls.expired }),
    startTestServer(whoami, { tls: tls.wrongHost }),
  ]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
});

afterAll(async () => {
  await Promise.all([trusted, mutual, expired, wrongHost].map((server) => server.close()));
});

/** undici's fetch on an Agent with these connect (TLS) options: the documented way. */
function withTls(connect: Agent.Options['connect']): FetchTransportOptions {
  const agent = new Agent({ connect });
  agents.push(agent);
  return { fetch: undiciFetch, init: { dispatcher: agent } };
}

function clientOn(options: FetchTransportOptions = {}): Client {
  const client = createClient([fetchTransport(options)]);
  clients.push(client);
  return client;
}

async function transportErrorOf(url: string, options: FetchTransportOptions = {}) {
  const error = await clientOn(options)
    .get(url)
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
  expect(isTransportError(error)).toBe(true);
  return error as TransportError;
}

describe('fetchTransport tls', () => {
  it("Node's global fetch rejects a private CA's certificate: it takes no TLS options", async () => {
    const error = await transportErrorOf(`${trusted.url}/`);
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it("undici's fetch with an Agent dispatcher trusts the private CA given in connect.ca", async () => {
    const res = await clientOn(withTls({ ca: tls.ca })).get(`${trusted.url}/`);
    expect(res.status).toBe(200);
  });

  it("Node's global fetch takes the same undici Agent as init.dispatcher", async () => {
    const agent = new Agent({ connect: { ca: tls.ca } });
    agents.push(agent);
    const res = await clientOn({ init: { dispatcher: agent } }).get(`${trusted.url}/`);
    expect(res.status).toBe(200);
  });

  it('rejects an expired certificate with CERT_HAS_EXPIRED', async () => {
    const error = await transportErrorOf(`${expired.url}/`, withTls({ ca: tls.ca }));
    expect(error.code).toBe('CERT_HAS_EXPIRED');
  });

  it('rejects a certificate for another host name with ERR_TLS_CERT_ALTNAME_INVALID', async () => {
    const error = await transportErrorOf(`${wrongHost.url}/`, withTls({ ca: tls.ca }));
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('is rejected by a server that requires a client certificate when it has none', async () => {
    const error = await transportErrorOf(`${mutual.url}/`, withTls({ ca: tls.ca }));
    expect(error.code).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|HANDSHAKE_FAILURE/);
  });

  it('presents the client certificate of the Agent to a server that requires one', async () => {
    const options = withTls({
      ca: tls.ca,
      cert: tls.client.cert,
      key: tls.client.encryptedKey,
      passphrase: tls.client.passphrase,
    });
    const res = await clientOn(options).get(`${mutual.url}/`);
    expect(await res.json()).toEqual({ client: 'client' });
  });

  it.each(['tls', 'proxy', 'proxyAuth', 'allowH2'])(
    'refuses the undici-only option %s with a ConfigError that says what to do',
    (option) => {
      let error: unknown;
      try {
        fetchTransport({ [option]: option === 'allowH2' ? true : {} } as FetchTransportOptions);
      } catch (caught) {
        error = caught;
      }
      expect(isConfigError(error)).toBe(true);
      expect((error as Error).message).toMatch(/init: \{ dispatcher/);
    },
  );
});
