import { createClient, type Logger } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import { logging } from './index.js';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function captureLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

describe('logging() against a real server with the undici transport', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      if (req.url?.startsWith('/fail')) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': ['session=srv-cookie-secret; HttpOnly'],
        'x-request-id': 'r-1',
      });
      res.end(
        JSON.stringify({
          echo: req.headers['x-visible'],
          access_token: 'srv-token-secret',
          pad: 'p'.repeat(3000),
        }),
      );
    });
  });
  afterAll(() => server.close());

  it('logs a verbose line pair with secrets redacted and the body cut, then a 502 at error', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient(
      [logging({ logger, verbose: true, maxBodyBytes: 64 }), undiciTransport()],
      {
        baseUrl: server.url,
      },
    );
    try {
      const res = await client.get('/items?api_key=qs-secret&page=1', {
        headers: { Authorization: 'Bearer hdr-secret', 'X-Visible': 'yes' },
      });
      expect(((await res.json()) as { echo: string }).echo).toBe('yes');
      const failed = await client.get('/fail');
      expect(failed.status).toBe(502);
    } finally {
      await client.close();
    }
    expect(lines.map((l) => [l.level, l.obj.event, l.obj.status])).toEqual([
      ['debug', 'request', undefined],
      ['debug', 'response', 200],
      ['debug', 'request', undefined],
      ['error', 'response', 502],
    ]);
    const text = JSON.stringify(lines);
    for (const secret of ['qs-secret', 'hdr-secret', 'srv-cookie-secret', 'srv-token-secret']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]!.obj.url).toBe(`${server.url}/items?api_key=[REDACTED]&page=1`);
    expect(lines[1]!.obj.headers).toMatchObject({
      'set-cookie': '[REDACTED]',
      'x-request-id': 'r-1',
    });
    expect(lines[1]!.obj).toMatchObject({ truncated: true, bodyBytes: expect.any(Number) });
    expect((lines[1]!.obj.bodyBytes as number) > 3000).toBe(true);
    expect(
      (lines[1]!.obj.body as string).startsWith('{"echo":"yes","access_token":"[REDACTED]"'),
    ).toBe(true);
    expect(lines[3]!.obj.body).toBe('bad gateway');
  });

  it('leaves a streamed body unread for the caller', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([logging({ logger, verbose: true }), undiciTransport()], {
      baseUrl: server.url,
    });
    try {
      const res = await client.get('/stream', { readBody: false });
      expect(res.bodyRead).toBe(false);
      expect(lines[1]!.obj.body).toBeUndefined();
      expect(((await res.json()) as { pad: string }).pad).toHaveLength(3000);
    } finally {
      await client.close();
    }
  });

  it('logs a refused connection at error with its normalised code', async () => {
    const closed = await startTestServer((_req, res) => {
      res.end();
    });
    const url = closed.url;
    await closed.close();
    const { logger, lines } = captureLogger();
    const client = createClient([logging({ logger }), undiciTransport()]);
    try {
      await expect(client.get(`${url}/x?token=t`)).rejects.toMatchObject({
        name: 'TransportError',
      });
    } finally {
      await client.close();
    }
    expect(lines[1]).toMatchObject({
      level: 'error',
      obj: { event: 'error', err: { code: 'ECONNREFUSED' } },
    });
    expect(JSON.stringify(lines)).not.toMatch(/token=(?!\[REDACTED\])/);
    expect(lines[1]!.obj.url).toBe(`${url}/x?token=[REDACTED]`);
  });
});

describe('logging() of a server that echoes the request', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Like many debugging endpoints: the request's headers and body, back as JSON or as text.
    server = await startTestServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (req.url?.startsWith('/text')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const lines = Object.entries(req.headers).map(([name, value]) => `${name}: ${value}`);
        res.end(lines.join('\n'));
        return;
      }
      if (req.url?.startsWith('/form')) {
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
        res.end(body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          headers: req.headers,
          json: body === '' ? null : JSON.parse(body),
          nested: { deeper: [{ cookie: ['a=1', 'b=2'], 'x-partner-id': 77 }] },
        }),
      );
    });
  });
  afterAll(() => server.close());

  const SECRETS = {
    authorization: 'Bearer echo-auth-secret',
    cookie: 'sid=echo-cookie-secret',
    'proxy-authorization': 'Basic echo-proxy-secret',
    'x-api-key': 'echo-xapikey-secret',
    'api-key': 'echo-apikey-secret',
    'private-token': 'echo-private-secret',
    'x-goog-api-key': 'echo-goog-secret',
    'x-partner-secret': 'echo-partner-secret',
  };

  function client(logger: Logger, options: object = {}) {
    return createClient(
      [logging({ logger, verbose: true, maxBodyBytes: 8192, ...options }), undiciTransport()],
      { baseUrl: server.url, sensitiveHeaders: ['x-partner-secret'] },
    );
  }

  it('redacts echoed credential headers at any depth in a JSON body', async () => {
    const { logger, lines } = captureLogger();
    const res = await client(logger).post('/echo', {
      headers: SECRETS,
      json: { user: 'ann', profile: { password: 'echo-pw-secret', otp: 123456, pin: 'shown' } },
    });
    const echoed = (await res.json()) as { headers: Record<string, string> };
    // The server did see them: the log is the only place they must not appear.
    expect(echoed.headers.authorization).toBe(SECRETS.authorization);
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/echo-[a-z]+-secret|123456|a=1/);
    const body = JSON.parse(lines[1]!.obj.body as string);
    expect(body.headers).toMatchObject({
      authorization: '[REDACTED]',
      cookie: '[REDACTED]',
      'x-goog-api-key': '[REDACTED]',
      'x-partner-secret': '[REDACTED]',
    });
    expect(body.json).toEqual({
      user: 'ann',
      profile: { password: '[REDACTED]', otp: '[REDACTED]', pin: 'shown' },
    });
    expect(body.nested.deeper[0]).toEqual({ cookie: '[REDACTED]', 'x-partner-id': 77 });
  });

  it('redacts echoed header lines of a plain-text body', async () => {
    const { logger, lines } = captureLogger();
    await client(logger).get('/text', { headers: SECRETS });
    const body = lines[1]!.obj.body as string;
    expect(body).toContain('authorization: [REDACTED]');
    expect(body).toContain('x-partner-secret: [REDACTED]');
    expect(body).toMatch(/^host: 127\.0\.0\.1:\d+$/m);
    expect(JSON.stringify(lines)).not.toMatch(/echo-[a-z]+-secret/);
  });

  it('redacts form fields named like credential headers and redactBodyFields', async () => {
    const { logger, lines } = captureLogger();
    const form = 'grant_type=password&Authorization=Bearer+form-secret&tenant=form-tenant&page=2';
    await client(logger, { redactBodyFields: ['Tenant'] }).post('/form', {
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const expected = 'grant_type=password&Authorization=[REDACTED]&tenant=[REDACTED]&page=2';
    expect(lines[0]!.obj.body).toBe(expected);
    expect(lines[1]!.obj.body).toBe(expected);
  });
});
