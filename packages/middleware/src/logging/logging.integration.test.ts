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
