// The fetch transport through a real forward proxy (Debian's tinyproxy on a free 127.0.0.1 port):
// fetch has no proxy option, so the documented way is undici's fetch with a ProxyAgent dispatcher.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Client, createClient, isTransportError, type TransportError } from '@extapi/core';
import {
  createTlsFixtures,
  findTinyproxy,
  startTestServer,
  startTinyproxy,
  type TestServer,
  type Tinyproxy,
} from '@extapi/core/testing';
import { EnvHttpProxyAgent, ProxyAgent, fetch as undiciFetch } from 'undici';
import { type FetchTransportOptions, fetchTransport } from './index.js';

// In CI tinyproxy must be there (.ci/run installs it): a missing binary fails the tests there.
const describeProxy = findTinyproxy() || process.env.CI ? describe : describe.skip;
const AUTH = { username: 'extapi', password: 's3cret' };
const tls = createTlsFixtures();

interface Echo {
  url: string;
  via: string | null;
  proxyAuthorization: string | null;
}

function echo(req: IncomingMessage, res: ServerResponse): void {
  const body: Echo = {
    url: req.url ?? '',
    via: req.headers.via ?? null,
    proxyAuthorization: req.headers['proxy-authorization'] ?? null,
  };
  res.end(JSON.stringify(body));
}

describeProxy(
  `fetchTransport through tinyproxy${findTinyproxy() ? '' : ' [skipped: tinyproxy not installed, set TINYPROXY_BIN]'}`,
  () => {
    let target: TestServer;
    let bypass: TestServer;
    let secure: TestServer;
    let open: Tinyproxy;
    let guarded: Tinyproxy;
    const dispatchers: { close(): Promise<void> }[] = [];
    const clients: Client[] = [];

    beforeAll(async () => {
      [target, bypass, secure] = await Promise.all([
        startTestServer(echo),
        startTestServer(echo),
        startTestServer(echo, { tls: tls.server }),
      ]);
      [open, guarded] = await Promise.all([
        startTinyproxy({ connectPorts: [secure.port] }),
        startTinyproxy({ connectPorts: [secure.port], basicAuth: AUTH }),
      ]);
    });

    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
      await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.close()));
    });

    afterAll(async () => {
      await Promise.all([open?.close(), guarded?.close()]);
      await Promise.all([target?.close(), bypass?.close(), secure?.close()]);
    });

    /** undici's fetch on a ProxyAgent: the documented way to send fetch through a proxy. */
    function viaProxy(options: ProxyAgent.Options): FetchTransportOptions {
      const dispatcher = new ProxyAgent({ proxyTunnel: false, ...options });
      dispatchers.push(dispatcher);
      return { fetch: undiciFetch, init: { dispatcher } };
    }

    function clientOn(options: FetchTransportOptions): Client {
      const client = createClient([fetchTransport(options)]);
      clients.push(client);
      return client;
    }

    async function echoOf(options: FetchTransportOptions, url: string): Promise<Echo> {
      const res = await clientOn(options).get(url);
      expect(res.status).toBe(200);
      return res.json<Echo>();
    }

    it('sends plain HTTP through a ProxyAgent, in absolute form', async () => {
      const seen = await echoOf(viaProxy({ uri: open.url }), `${target.url}/plain`);
      expect(seen.via).toMatch(/tinyproxy/);
      expect(open.log()).toContain(`GET ${target.url}/plain`);
    });

    it('tunnels HTTPS through CONNECT, the target checked with requestTls.ca', async () => {
      const seen = await echoOf(
        viaProxy({ uri: open.url, requestTls: { ca: tls.ca } }),
        `${secure.url}/tunnel`,
      );
      expect(seen).toEqual({ url: '/tunnel', via: null, proxyAuthorization: null });
      expect(open.log()).toContain(`CONNECT 127.0.0.1:${secure.port}`);
    });

    it('a proxy that requires authentication and gets none fails with ERR_PROXY_AUTH_REQUIRED', async () => {
      const error = await clientOn(viaProxy({ uri: guarded.url }))
        .get(`${target.url}/`)
        .then(
          () => undefined,
          (caught: unknown) => caught as TransportError,
        );
      expect(isTransportError(error)).toBe(true);
      expect(error?.code).toBe('ERR_PROXY_AUTH_REQUIRED');
    });

    it('credentials go to the proxy only, never to the target', async () => {
      const token = `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`;
      const seen = await echoOf(viaProxy({ uri: guarded.url, token }), `${target.url}/auth`);
      expect(seen.via).toMatch(/tinyproxy/);
      expect(seen.proxyAuthorization).toBeNull();
      const tunnelled = await echoOf(
        viaProxy({ uri: guarded.url, token, requestTls: { ca: tls.ca } }),
        `${secure.url}/auth`,
      );
      expect(tunnelled.proxyAuthorization).toBeNull();
    });

    it('an EnvHttpProxyAgent honours the proxy and the no-proxy list it is given', async () => {
      const dispatcher = new EnvHttpProxyAgent({
        httpProxy: open.url,
        noProxy: `127.0.0.1:${bypass.port}`,
        proxyTunnel: false,
      });
      dispatchers.push(dispatcher);
      const options = { fetch: undiciFetch, init: { dispatcher } };
      expect((await echoOf(options, `${target.url}/proxied`)).via).toMatch(/tinyproxy/);
      expect((await echoOf(options, `${bypass.url}/direct`)).via).toBeNull();
    });
  },
);
