// The undici transport through a real forward proxy: Debian's tinyproxy on a free 127.0.0.1 port,
// plain HTTP in absolute form, HTTPS through CONNECT, the proxy variables, NO_PROXY and proxy auth.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createClient,
  type ExtapiError,
  isTransportError,
  type TransportError,
} from '@extapi/core';
import {
  createTlsFixtures,
  findTinyproxy,
  startTestServer,
  startTinyproxy,
  type TestServer,
  type Tinyproxy,
} from '@extapi/core/testing';
import { Agent, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import { type UndiciTransport, type UndiciTransportOptions, undiciTransport } from './index.js';

// In CI tinyproxy must be there (.ci/run installs it): a missing binary fails the tests there.
const describeProxy = findTinyproxy() || process.env.CI ? describe : describe.skip;
const AUTH = { username: 'extapi', password: 's3cret' };
const ENV_NAMES = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];
const tls = createTlsFixtures();

interface Echo {
  url: string;
  via: string | null;
  proxyAuthorization: string | null;
}

function echo(req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.startsWith('/redirect?to=')) {
    res.writeHead(307, { location: decodeURIComponent(req.url.slice('/redirect?to='.length)) });
    res.end();
    return;
  }
  const body: Echo = {
    url: req.url ?? '',
    via: req.headers.via ?? null,
    proxyAuthorization: req.headers['proxy-authorization'] ?? null,
  };
  res.end(JSON.stringify(body));
}

describeProxy(
  `undiciTransport through tinyproxy${findTinyproxy() ? '' : ' [skipped: tinyproxy not installed, set TINYPROXY_BIN]'}`,
  () => {
    let target: TestServer;
    let bypass: TestServer;
    let secure: TestServer;
    let open: Tinyproxy;
    let guarded: Tinyproxy;
    let guardedUrl: string;
    const saved = new Map<string, string | undefined>();
    const clients: { close(): Promise<void> }[] = [];

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
      guardedUrl = `http://${AUTH.username}:${AUTH.password}@127.0.0.1:${guarded.port}`;
      for (const name of ENV_NAMES) saved.set(name, process.env[name]);
    });

    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    afterAll(async () => {
      await Promise.all([open?.close(), guarded?.close()]);
      await Promise.all([target?.close(), bypass?.close(), secure?.close()]);
    });

    function setEnv(values: Record<string, string>): void {
      for (const name of ENV_NAMES) delete process.env[name];
      Object.assign(process.env, values);
    }

    function clientOn(options: UndiciTransportOptions) {
      const client = createClient([undiciTransport(options)]);
      clients.push(client);
      return client;
    }

    async function echoOf(options: UndiciTransportOptions, url: string): Promise<Echo> {
      const res = await clientOn(options).get(url);
      expect(res.status).toBe(200);
      return res.json<Echo>();
    }

    async function errorOf(options: UndiciTransportOptions, url: string): Promise<TransportError> {
      const error = await clientOn(options)
        .get(url)
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(isTransportError(error)).toBe(true);
      return error as TransportError;
    }

    it('sends plain HTTP through an explicit proxy, in absolute form', async () => {
      const seen = await echoOf({ proxy: open.url }, `${target.url}/plain?x=1`);
      expect(seen.url).toBe('/plain?x=1');
      expect(seen.via).toMatch(/tinyproxy/);
      expect(open.log()).toContain(`GET ${target.url}/plain?x=1`);
    });

    it('tunnels HTTPS through CONNECT and still checks the target certificate', async () => {
      const seen = await echoOf({ proxy: open.url, tls: { ca: tls.ca } }, `${secure.url}/tunnel`);
      // Inside a tunnel the proxy sees nothing of the request: no Via header.
      expect(seen).toEqual({ url: '/tunnel', via: null, proxyAuthorization: null });
      expect(open.log()).toContain(`CONNECT 127.0.0.1:${secure.port}`);
      const error = await errorOf({ proxy: open.url }, `${secure.url}/tunnel`);
      expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });

    it("proxy: 'env' honours HTTP_PROXY and HTTPS_PROXY", async () => {
      setEnv({ HTTP_PROXY: open.url, HTTPS_PROXY: open.url });
      const transport = undiciTransport({ tls: { ca: tls.ca } });
      clients.push(transport);
      expect(transport.dispatcher).toBeInstanceOf(EnvHttpProxyAgent);
      const client = createClient([transport]);
      expect((await (await client.get(`${target.url}/env`)).json<Echo>()).via).toMatch(/tinyproxy/);
      expect((await client.get(`${secure.url}/env-tls`)).status).toBe(200);
      expect(open.log()).toContain(`CONNECT 127.0.0.1:${secure.port}`);
    });

    it('prefers the lower-case http_proxy to HTTP_PROXY, as curl does', async () => {
      setEnv({ HTTP_PROXY: 'http://127.0.0.1:1', http_proxy: open.url });
      expect((await echoOf({}, `${target.url}/lower`)).via).toMatch(/tinyproxy/);
    });

    it('sends the hosts listed in NO_PROXY (or no_proxy) straight to the target', async () => {
      for (const name of ['NO_PROXY', 'no_proxy']) {
        setEnv({ HTTP_PROXY: open.url, [name]: `localhost, 127.0.0.1:${bypass.port}` });
        expect((await echoOf({}, `${bypass.url}/direct`)).via).toBeNull();
        expect((await echoOf({}, `${target.url}/proxied`)).via).toMatch(/tinyproxy/);
      }
    });

    it("without proxy variables 'env' is the plain Agent, and proxy: false ignores them", async () => {
      setEnv({});
      const plain = undiciTransport();
      clients.push(plain);
      expect(plain.dispatcher.constructor).toBe(Agent);
      setEnv({ HTTP_PROXY: open.url });
      const off = undiciTransport({ proxy: false });
      clients.push(off);
      expect(off.dispatcher.constructor).toBe(Agent);
      expect((await echoOf({ proxy: false }, `${target.url}/off`)).via).toBeNull();
      const explicit = undiciTransport({ proxy: open.url });
      clients.push(explicit);
      expect(explicit.dispatcher).toBeInstanceOf(ProxyAgent);
    });

    describe('proxy authentication', () => {
      it('a proxy that requires it and gets none fails with ERR_PROXY_AUTH_REQUIRED', async () => {
        const plain = await errorOf({ proxy: guarded.url }, `${target.url}/`);
        expect(plain.code).toBe('ERR_PROXY_AUTH_REQUIRED');
        expect(plain.message).toMatch(/407/);
        const tunnel = await errorOf({ proxy: guarded.url, tls: { ca: tls.ca } }, `${secure.url}/`);
        expect(tunnel.code).toBe('ERR_PROXY_AUTH_REQUIRED');
      });

      it('wrong credentials never reach the target (tinyproxy answers them 401 itself)', async () => {
        const wrong = {
          proxy: guarded.url,
          proxyAuth: { username: AUTH.username, password: 'wrong' },
        };
        // tinyproxy 1.11 answers bad credentials with its own 401 page rather than 407.
        const res = await clientOn(wrong).get(`${target.url}/wrong-credentials`);
        expect(res.status).toBe(401);
        expect(target.arrivals.some((arrival) => arrival.url === '/wrong-credentials')).toBe(false);
        const tunnel = await errorOf({ ...wrong, tls: { ca: tls.ca } }, `${secure.url}/`);
        expect(tunnel.code).toBe('ERR_PROXY_CONNECT');
        expect(tunnel.message).toMatch(/401/);
      });

      it('credentials in the proxy URL go to the proxy and never to the target', async () => {
        const seen = await echoOf({ proxy: guardedUrl }, `${target.url}/auth`);
        expect(seen.via).toMatch(/tinyproxy/);
        expect(seen.proxyAuthorization).toBeNull();
        const tunnelled = await echoOf(
          { proxy: guardedUrl, tls: { ca: tls.ca } },
          `${secure.url}/auth`,
        );
        expect(tunnelled.proxyAuthorization).toBeNull();
      });

      it('proxyAuth gives them as { username, password } or as the header value', async () => {
        const basic = `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`;
        for (const proxyAuth of [AUTH, basic]) {
          const seen = await echoOf({ proxy: guarded.url, proxyAuth }, `${target.url}/proxy-auth`);
          expect(seen.via).toMatch(/tinyproxy/);
          expect(seen.proxyAuthorization).toBeNull();
        }
      });

      it('credentials in HTTP_PROXY authenticate the env proxy', async () => {
        setEnv({ HTTP_PROXY: guardedUrl });
        expect((await echoOf({}, `${target.url}/env-auth`)).via).toMatch(/tinyproxy/);
      });

      it('never follows a redirect to a host the proxy does not serve', async () => {
        setEnv({ HTTP_PROXY: guardedUrl, NO_PROXY: `127.0.0.1:${bypass.port}` });
        const to = encodeURIComponent(`${bypass.url}/landed`);
        const seen = await echoOf({}, `${target.url}/redirect?to=${to}`);
        expect(seen).toEqual({ url: '/landed', via: null, proxyAuthorization: null });
      });

      it('refuses a Proxy-Authorization header set on the request', async () => {
        const client = clientOn({ proxy: guardedUrl });
        const error = await client
          .get(`${target.url}/`, { headers: { 'proxy-authorization': 'Basic eDp5' } })
          .then(
            () => undefined,
            (caught: unknown) => caught as ExtapiError,
          );
        expect(error?.code).toBe('ERR_INVALID_REQUEST');
        expect(error?.message).toMatch(/proxyAuth/);
      });
    });

    it('keeps its type: a transport built with a proxy is an UndiciTransport', () => {
      const transport: UndiciTransport = undiciTransport({ proxy: open.url });
      clients.push(transport);
      expect(transport.transportName).toBe('undici');
    });
  },
);
