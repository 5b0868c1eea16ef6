// Holes a careless caller could open in the client itself (issue "Holes"): secrets in ConfigErrors,
// replaced credential lists, truthy strings, baseUrl joins, dot segments, and a deadline a streamed body outlived.
import { inspect } from 'node:util';
import { type ClientOptions, createClient, isConfigError, isTimeoutError } from '@extapi/core';
import { mockTransport, startTestServer } from '@extapi/core/testing';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

const PASSWORD = 'pw/Mark#42';
const MARK = 'Mark';

/** Everything a logger or a person could see of an error: message, stack, cause chain, inspect. */
function everything(error: unknown): string {
  let text = inspect(error, { depth: 10, showHidden: true });
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    text += `\n${e.message}\n${e.stack}\n${JSON.stringify(e)}`;
  }
  return text;
}

async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('secrets in ConfigErrors of the client', () => {
  it.each([
    ['a password with an unencoded /', `http://user:${PASSWORD}@api.test/`],
    ['a password with an unencoded @', 'http://user:p@ss-Mark@api.test:99999/'],
    ['an unparsable URL', `http://user:${PASSWORD}@[::zz]/`],
    ['backslashes for slashes', `http:\\\\user:${PASSWORD}@api.test:0x/`],
  ])('quotes no part of %s in a request URL', async (_name, url) => {
    const client = createClient([mockTransport()]);
    const error = await errorOf(() => client.get(url));
    expect(isConfigError(error)).toBe(true);
    expect(everything(error)).not.toContain(MARK);
  });

  it.each([`http://user:${PASSWORD}@api.test/v1`, `http://user:${PASSWORD}@[::zz]/v1`])(
    'quotes no part of the password in a bad baseUrl %#',
    async (baseUrl) => {
      const error = await errorOf(() =>
        createClient([mockTransport()], { baseUrl, allowAbsoluteUrls: 'yes' } as never),
      );
      expect(isConfigError(error)).toBe(true);
      expect(everything(error)).not.toContain(MARK);
    },
  );
});

describe.each(TRANSPORTS)('the client over %s', (_name, kind) => {
  const guard = useGuard();

  it('drops the default credential headers on a cross-origin redirect even with custom sensitiveHeaders', async () => {
    const landed: Record<string, unknown>[] = [];
    const other = await startTestServer((req, res) => {
      landed.push({ ...req.headers });
      res.end('other');
    });
    guard.defer(() => other.close());
    const origin = await startTestServer((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', `${other.url}/landing`);
      res.end();
    });
    guard.defer(() => origin.close());
    const client = guard.client([kind.make(guard)], {
      baseUrl: origin.url,
      sensitiveHeaders: ['X-Partner-Secret'],
    });
    const res = await client.get('/go', {
      headers: { 'x-partner-secret': 'a', 'x-api-key': 'b', 'x-auth-token': 'c', 'api-key': 'd' },
    });
    expect(await res.text()).toBe('other');
    for (const name of ['x-partner-secret', 'x-api-key', 'x-auth-token']) {
      expect(landed[0]).not.toHaveProperty(name);
    }
  });

  it.each([['false'], [1], [{}]])(
    'refuses allowAbsoluteUrls: %j instead of sending to another origin',
    async (value) => {
      const hits: string[] = [];
      const other = await startTestServer((req, res) => {
        hits.push(req.url!);
        res.end();
      });
      guard.defer(() => other.close());
      expect(() =>
        createClient([kind.make(guard)], {
          baseUrl: 'http://127.0.0.1:1/v1',
          allowAbsoluteUrls: value,
        } as unknown as ClientOptions),
      ).toThrow(/allowAbsoluteUrls.*expected true or false/);
      expect(hits).toEqual([]);
    },
  );

  it("sends a call under a baseUrl with a query or fragment to the base's path, with its query", async () => {
    const seen: string[] = [];
    const server = await startTestServer((req, res) => {
      seen.push(req.url!);
      res.end();
    });
    guard.defer(() => server.close());
    const transport = kind.make(guard);
    await guard.client([transport], { baseUrl: `${server.url}/v1?tenant=7` }).get('/items/42');
    await guard.client([transport], { baseUrl: `${server.url}/v1#x` }).get('/items/42?a=1');
    expect(seen).toEqual(['/v1/items/42?tenant=7', '/v1/items/42?a=1']);
  });

  it("refuses a path that climbs out of the base's path, sending nothing", async () => {
    const seen: string[] = [];
    const server = await startTestServer((req, res) => {
      seen.push(req.url!);
      res.end();
    });
    guard.defer(() => server.close());
    const client = guard.client([kind.make(guard)], { baseUrl: `${server.url}/api/v1` });
    for (const path of ['/%2e%2e/%2e%2e/admin', '/../admin', '/.%2E/admin']) {
      const error = await errorOf(() => client.get(path));
      expect(isConfigError(error)).toBe(true);
    }
    expect(seen).toEqual([]);
  });

  it('refuses a bad method, signal or progress callback before anything is sent', async () => {
    const seen: string[] = [];
    const server = await startTestServer((req, res) => {
      seen.push(req.method!);
      res.end();
    });
    guard.defer(() => server.close());
    const client = guard.client([kind.make(guard)], { baseUrl: server.url });
    const bad = [
      { method: 5 },
      { method: 'ſet' },
      { signal: {} },
      { onUploadProgress: 'yes', body: 'x', method: 'POST' },
      { onDownloadProgress: 1 },
    ];
    for (const options of bad) {
      const error = await errorOf(() => client.request('/x', options as never));
      expect(isConfigError(error)).toBe(true);
    }
    expect(seen).toEqual([]);
  });

  it('keeps timeoutMs running over a body streamed with readBody: false', async () => {
    const server = await startTestServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // 40 bytes over about 4 s: far longer than the 300 ms deadline.
      let sent = 0;
      const timer = setInterval(() => {
        res.write('x');
        if (++sent === 40) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
    guard.defer(() => server.close());
    const client = guard.client([kind.make(guard)], { baseUrl: server.url, timeoutMs: 300 });
    const res = await client.get('/drip', { readBody: false });
    const error = await errorOf(() => res.text());
    expect(isTimeoutError(error)).toBe(true);
  });
});
