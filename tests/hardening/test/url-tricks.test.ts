// URL tricks (axios CVE-2024-39338, CVE-2025-27152; got CVE-2022-33987): a client with baseUrl
// never lets a request URL leave its origin, and redirects never leave http(s).
import { isExtapiError } from '@extapi/core';
import { useGuard } from './helpers/guard.js';
import { type RawServer, rawResponse, startRawServer } from '@extapi/core/testing';
import { TRANSPORTS } from './helpers/transports.js';

describe.each(TRANSPORTS)('URL tricks over %s', (_name, kind) => {
  const guard = useGuard();
  let origin: RawServer;
  let evil: RawServer;

  beforeEach(async () => {
    origin = await startRawServer((req, socket) => {
      const to = new URL(req.path, 'http://x').searchParams.get('to');
      socket.write(to ? rawResponse(302, '', [`location: ${to}`]) : rawResponse(200, 'origin'));
    });
    evil = await startRawServer((_req, socket) => socket.write(rawResponse(200, 'evil')));
    guard.defer(() => origin.close());
    guard.defer(() => evil.close());
  });

  it.each([
    (e: string) => `//${e}/x`,
    (e: string) => `http://${e}/x`,
    (e: string) => `HTTP://${e}/x`,
    (e: string) => `https://${e}/x`,
    (e: string) => `http://user:pass@${e}/x`,
  ])('refuses %p to another origin with baseUrl, opening no socket', async (make) => {
    const client = guard.client([kind.make(guard)], { baseUrl: `${origin.url}/v1` });
    const url = make(`127.0.0.1:${evil.port}`);
    const error = await client.get(url).catch((e: unknown) => e);
    expect(isExtapiError(error) && error.code).toBe('ERR_CONFIG');
    await expect(client.get(new URL(url.startsWith('//') ? `http:${url}` : url))).rejects.toThrow(
      /another origin/,
    );
    expect([origin.connections, evil.connections]).toEqual([0, 0]);
  });

  it.each([
    '\\\\EVIL/x',
    '/\\EVIL/x',
    '\\/EVIL/x',
    ' //EVIL/x',
    'http:EVIL/x',
    '@EVIL/x',
    '.EVIL/x',
  ])('keeps %p on the base origin', async (template) => {
    const client = guard.client([kind.make(guard)], { baseUrl: `${origin.url}/v1` });
    const url = template.replace('EVIL', `127.0.0.1:${evil.port}`);
    const outcome = await client.get(url).then(
      async (res) => res.text(),
      (e: unknown) => (isExtapiError(e) ? e.code : String(e)),
    );
    expect(['origin', 'ERR_CONFIG']).toContain(outcome);
    expect(evil.connections).toBe(0);
  });

  it.each([
    'file:///etc/passwd',
    'data:text/plain,hello',
    'unix:/var/run/docker.sock:/containers/json',
    'javascript:alert(1)',
    'ftp://127.0.0.1/x',
  ])('refuses a redirect to %s', async (location) => {
    const client = guard.client([kind.make(guard)], { baseUrl: origin.url });
    const error = await client.get('/go', { query: { to: location } }).catch((e: unknown) => e);
    expect(isExtapiError(error) && error.code).toBe('ERR_UNSAFE_REDIRECT');
    expect(origin.requests).toHaveLength(1);
  });
});
