// Credentials across redirects (node-fetch CVE-2022-0235, undici CVE-2022-31151, CVE-2023-45143,
// CVE-2024-24758, CVE-2024-30260, follow-redirects CVE-2022-0536, CVE-2026-40895), on both transports.
import type { IncomingHttpHeaders } from 'node:http';
import type { Context, Next } from '@extapi/core';
import { createTlsFixtures, startTestServer } from '@extapi/core/testing';
import { bearerAuth } from '@extapi/middleware';
import { useGuard } from './helpers/guard.js';
import { startDualServer } from './helpers/dual-server.js';
import { TRANSPORTS } from './helpers/transports.js';

const SECRETS = {
  'proxy-authorization': 'Basic cHJveHktc2VjcmV0',
  cookie: 'sid=cookie-secret',
  'x-api-key': 'api-key-secret',
};
const TOKEN = 'bearer-token-secret';
const CREDENTIAL_NAMES = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];

function credentialsIn(headers: IncomingHttpHeaders | undefined): string[] {
  return CREDENTIAL_NAMES.filter((name) => headers?.[name] !== undefined);
}

describe.each(TRANSPORTS)('credentials across redirects over %s', (_name, kind) => {
  const guard = useGuard();

  /** Two servers on two ports: `origin` redirects, both record what reached `/landing`. */
  async function servers() {
    const landed: { where: string; headers: IncomingHttpHeaders }[] = [];
    const other = await startTestServer((req, res) => {
      landed.push({ where: 'other', headers: req.headers });
      res.end('other');
    });
    guard.defer(() => other.close());
    const origin = await startTestServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/landing') {
        landed.push({ where: 'origin', headers: req.headers });
        res.end('origin');
        return;
      }
      res.statusCode = Number(url.searchParams.get('status'));
      res.setHeader('location', url.searchParams.get('to')!);
      res.end();
    });
    guard.defer(() => origin.close());
    return { origin, other, landed };
  }

  it.each([301, 302, 303, 307, 308])(
    'drops Authorization, Proxy-Authorization, Cookie, X-API-Key and the bearer token on a %i to another port, and keeps them on the same origin',
    async (status) => {
      const { origin, other, landed } = await servers();
      const transport = kind.make(guard);
      const viaBearer = guard.client([bearerAuth(() => TOKEN), transport], {
        baseUrl: origin.url,
      });
      const viaHeaders = guard.client([transport], { baseUrl: origin.url });
      const explicit = { ...SECRETS, authorization: 'Basic ZXhwbGljaXQtc2VjcmV0' };

      for (const [client, headers] of [
        [viaBearer, SECRETS],
        [viaHeaders, explicit],
      ] as const) {
        const away = await client.get('/go', {
          query: { status, to: `${other.url}/landing` },
          headers,
        });
        expect(await away.text()).toBe('other');
        const home = await client.get('/go', { query: { status, to: '/landing' }, headers });
        expect(await home.text()).toBe('origin');
      }
      expect(landed.map((l) => [l.where, credentialsIn(l.headers)])).toEqual([
        ['other', []],
        ['origin', CREDENTIAL_NAMES],
        ['other', []],
        ['origin', CREDENTIAL_NAMES],
      ]);
      expect(landed[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(landed[3]!.headers.authorization).toBe(explicit.authorization);
    },
  );

  it('drops every credential on https → http on the same host and port (a self-signed certificate it trusts)', async () => {
    const landed: { secure: boolean; headers: IncomingHttpHeaders }[] = [];
    const dual = await startDualServer((req, res) => {
      const secure = Boolean((req.socket as { encrypted?: boolean }).encrypted);
      if (req.url === '/landing') {
        landed.push({ secure, headers: req.headers });
        res.end(secure ? 'https' : 'http');
        return;
      }
      res.statusCode = 302;
      res.setHeader('location', req.url === '/down' ? `${dual.httpUrl}/landing` : '/landing');
      res.end();
    });
    guard.defer(() => dual.close());
    const transport = kind.make(guard, { ca: createTlsFixtures().ca });
    const client = guard.client([bearerAuth(() => TOKEN), transport], { baseUrl: dual.httpsUrl });

    expect(await (await client.get('/down', { headers: SECRETS })).text()).toBe('http');
    expect(await (await client.get('/same', { headers: SECRETS })).text()).toBe('https');
    expect(landed.map((l) => [l.secure, credentialsIn(l.headers)])).toEqual([
      [false, []],
      [true, CREDENTIAL_NAMES],
    ]);
  });

  it('never turns userinfo in a Location into an Authorization header', async () => {
    const { origin, other, landed } = await servers();
    const client = guard.client([kind.make(guard)], { baseUrl: origin.url });
    const away = `http://user:location-secret@127.0.0.1:${other.port}/landing`;
    const home = `http://user:location-secret@127.0.0.1:${origin.port}/landing`;
    await (await client.get('/go', { query: { status: 302, to: away } })).text();
    await (await client.get('/go', { query: { status: 307, to: home } })).text();
    expect(landed.map((l) => [l.where, l.headers.authorization])).toEqual([
      ['other', undefined],
      ['origin', undefined],
    ]);
  });

  it('strips credentials when a middleware rewrites the URL to another origin', async () => {
    const { origin, other, landed } = await servers();
    const rewrite = async function rewrite(ctx: Context, next: Next) {
      return next(ctx.clone({ request: { url: new URL(`${other.url}/landing`) } }));
    };
    const client = guard.client([bearerAuth(() => TOKEN), rewrite, kind.make(guard)], {
      baseUrl: origin.url,
    });
    expect(await (await client.get('/anything', { headers: SECRETS })).text()).toBe('other');
    expect(landed.map((l) => [l.where, credentialsIn(l.headers)])).toEqual([['other', []]]);
  });
});
