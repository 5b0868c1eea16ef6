import { Readable } from 'node:stream';
import {
  type Context,
  createClient,
  HttpStatusError,
  isConfigError,
  type Logger,
  markSensitiveHeader,
  type Middleware,
  type Next,
  TransportError,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import {
  DEFAULT_LOGGING_OPTIONS,
  logging,
  nodeDebugEnabled,
  resolveLoggingOptions,
} from './index.js';

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function captureLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (obj: object, msg?: string) =>
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

// A stand-in for retry(): calls the rest of the stack twice, each attempt on its own clone.
const twoAttempts: Middleware = async function twoAttempts(ctx: Context, next: Next) {
  const first = await next(ctx.clone({ attempt: 1 }));
  await first.discard();
  return next(ctx.clone({ attempt: 2 }));
};

describe('logging()', () => {
  it('logs the request and the response at debug with method, url, status, duration and attempt', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger }),
      mockTransport([{ status: 200, body: 'ok' }]),
    ]);
    const res = await client.get('http://api.test/items?page=2');
    expect(await res.text()).toBe('ok');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      level: 'debug',
      obj: { event: 'request', method: 'GET', url: 'http://api.test/items?page=2', attempt: 1 },
      msg: 'request GET http://api.test/items?page=2',
    });
    expect(lines[1]!.level).toBe('debug');
    expect(lines[1]!.obj).toEqual({
      event: 'response',
      method: 'GET',
      url: 'http://api.test/items?page=2',
      attempt: 1,
      status: 200,
      durationMs: expect.any(Number),
    });
    expect(lines[1]!.msg).toMatch(/^response 200 GET http:\/\/api\.test\/items\?page=2 \d+ ms$/);
  });

  it('measures the duration of the call in ms', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger }),
      mockTransport([{ status: 204, delayMs: 30 }]),
    ]);
    await client.get('http://api.test/slow');
    expect(lines[1]!.obj.durationMs).toBeGreaterThanOrEqual(25);
  });

  it('logs responses with status 500 and above at error, 4xx at debug', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger }),
      mockTransport([{ status: 503 }, { status: 404 }, { status: 500 }]),
    ]);
    await client.get('http://api.test/a');
    await client.get('http://api.test/b');
    await client.get('http://api.test/c');
    expect(
      lines.filter((l) => l.obj.event === 'response').map((l) => [l.obj.status, l.level]),
    ).toEqual([
      [503, 'error'],
      [404, 'debug'],
      [500, 'error'],
    ]);
  });

  it('logs a transport error at error and rethrows it unchanged', async () => {
    const { logger, lines } = captureLogger();
    const failure = new TransportError('connect ECONNREFUSED', 'ECONNREFUSED', {
      method: 'GET',
      url: 'http://api.test/x',
    });
    const client = createClient([logging({ logger }), mockTransport([{ error: failure }])]);
    await expect(client.get('http://api.test/x')).rejects.toBe(failure);
    expect(lines[1]!.level).toBe('error');
    expect(lines[1]!.obj).toMatchObject({
      event: 'error',
      method: 'GET',
      attempt: 1,
      durationMs: expect.any(Number),
      err: { name: 'TransportError', code: 'ECONNREFUSED' },
    });
    expect(lines[1]!.msg).toMatch(
      /^failed GET http:\/\/api\.test\/x after \d+ ms: connect ECONNREFUSED/,
    );
  });

  it('logs an HttpStatusError from an inner middleware at error with its status', async () => {
    const { logger, lines } = captureLogger();
    const expect200: Middleware = async function expect200(ctx, next) {
      const res = await next(ctx);
      if (res.status !== 200) throw new HttpStatusError(res);
      return res;
    };
    const client = createClient([logging({ logger }), expect200, mockTransport([{ status: 404 }])]);
    await expect(client.get('http://api.test/missing')).rejects.toBeInstanceOf(HttpStatusError);
    expect(lines[1]).toMatchObject({ level: 'error', obj: { event: 'error', status: 404 } });
  });

  it("logs a caller's abort at debug as aborted, not as an upstream error", async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger }),
      mockTransport([{ status: 200, delayMs: 5_000 }]),
    ]);
    const controller = new AbortController();
    const reason = new Error('user went away');
    const call = client.get('http://api.test/x', { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 10);
    await expect(call).rejects.toBe(reason);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.level).toBe('debug');
    expect(lines[1]!.obj).toMatchObject({ event: 'abort', method: 'GET', attempt: 1 });
    expect(lines.some((l) => l.level === 'error')).toBe(false);
  });

  it('logs a deadline (TimeoutError) at error, unlike an abort', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger }),
      mockTransport([{ status: 200, delayMs: 5_000 }]),
    ]);
    await expect(client.get('http://api.test/x', { timeoutMs: 20 })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(lines[1]).toMatchObject({
      level: 'error',
      obj: { event: 'error', err: { name: 'TimeoutError' } },
    });
  });

  it('logs one line pair per call outside retry and one per attempt inside it', async () => {
    const outside = captureLogger();
    const inside = captureLogger();
    const transport = mockTransport([{ status: 503 }, { status: 200 }]);
    const outer = createClient([logging({ logger: outside.logger }), twoAttempts, transport]);
    await outer.get('http://api.test/x');
    expect(outside.lines.map((l) => [l.obj.event, l.obj.attempt])).toEqual([
      ['request', 1],
      ['response', 1],
    ]);

    const inner = createClient([
      twoAttempts,
      logging({ logger: inside.logger }),
      mockTransport([{ status: 503 }, { status: 200 }]),
    ]);
    await inner.get('http://api.test/x');
    expect(inside.lines.map((l) => [l.obj.event, l.obj.attempt, l.obj.status])).toEqual([
      ['request', 1, undefined],
      ['response', 1, 503],
      ['request', 2, undefined],
      ['response', 2, 200],
    ]);
    expect(inside.lines[2]!.msg).toBe('request GET http://api.test/x (attempt 2)');
  });

  it('redacts every credential header, in any letter case, in requests and responses', async () => {
    const { logger, lines } = captureLogger();
    const markOwn: Middleware = async function markOwn(ctx, next) {
      ctx.request.headers.set('X-Partner-Key-Id', 'partner-secret-9');
      markSensitiveHeader(ctx, 'X-Partner-Key-Id');
      return next(ctx);
    };
    // An auth middleware placed before logging() marks the header it sets as a credential.
    const client = createClient([
      markOwn,
      logging({ logger, verbose: true, redactHeaders: ['X-Custom-SECRET'] }),
      mockTransport([
        {
          status: 200,
          headers: {
            'Set-Cookie': ['sid=cookie-secret-1', 'other=cookie-secret-2'],
            'X-API-KEY': 'resp-api-key-secret',
            'x-custom-secret': 'resp-custom-secret',
            'Content-Type': 'text/plain',
          },
          body: 'fine',
        },
      ]),
    ]);
    await client.get('http://api.test/x', {
      headers: {
        AUTHORIZATION: 'Bearer bearer-secret',
        'Proxy-Authorization': 'Basic proxy-secret',
        cookie: 'sid=req-cookie-secret',
        'x-Api-Key': 'req-api-key-secret',
        'X-CUSTOM-SECRET': 'req-custom-secret',
        'X-Visible': 'shown',
      },
    });
    const text = JSON.stringify(lines);
    for (const secret of [
      'bearer-secret',
      'proxy-secret',
      'req-cookie-secret',
      'cookie-secret-1',
      'cookie-secret-2',
      'req-api-key-secret',
      'resp-api-key-secret',
      'req-custom-secret',
      'resp-custom-secret',
      'partner-secret-9',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]!.obj.headers).toMatchObject({
      authorization: '[REDACTED]',
      'proxy-authorization': '[REDACTED]',
      cookie: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      'x-custom-secret': '[REDACTED]',
      'x-partner-key-id': '[REDACTED]',
      'x-visible': 'shown',
    });
    expect(lines[1]!.obj.headers).toMatchObject({
      'set-cookie': '[REDACTED]',
      'x-api-key': '[REDACTED]',
      'x-custom-secret': '[REDACTED]',
      'content-type': 'text/plain',
    });
    expect(lines[1]!.obj.body).toBe('fine');
  });

  it('redacts secret query parameters, redactQuery names and URL userinfo', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger, redactQuery: ['Session'] }),
      mockTransport([{ status: 500 }]),
    ]);
    await client.get(
      'http://alice:pa55word@api.test/x?token=t-secret&api_key=k-secret&client_secret=c-secret' +
        '&password=p-secret&X-Amz-Signature=s-secret&session=sess-secret&page=3',
    );
    const text = JSON.stringify(lines);
    for (const secret of [
      'alice',
      'pa55word',
      't-secret',
      'k-secret',
      'c-secret',
      'p-secret',
      's-secret',
      'sess-secret',
    ]) {
      expect(text).not.toContain(secret);
    }
    const url = new URL(lines[0]!.obj.url as string);
    expect(url.username).toBe('');
    expect(url.searchParams.get('token')).toBe('[REDACTED]');
    expect(url.searchParams.get('session')).toBe('[REDACTED]');
    expect(url.searchParams.get('page')).toBe('3');
    expect(lines[1]!.obj.url).toBe(lines[0]!.obj.url);
  });

  it('scrubs secrets from the message of a foreign error', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger }),
      mockTransport([
        { error: new Error('socket hang up calling http://u:pw@api.test/x?token=abc123') },
      ]),
    ]);
    await expect(client.get('http://api.test/x')).rejects.toThrow('socket hang up');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('abc123');
    expect(text).not.toContain('u:pw');
  });

  it('in verbose mode shows bodies cut at maxBodyBytes, with their full size', async () => {
    const { logger, lines } = captureLogger();
    const big = 'x'.repeat(5_000);
    const client = createClient([
      logging({ logger, verbose: true, maxBodyBytes: 100 }),
      mockTransport([{ status: 200, headers: { 'content-type': 'text/plain' }, body: big }]),
    ]);
    const res = await client.post('http://api.test/upload', {
      body: 'y'.repeat(300),
      headers: { 'content-type': 'text/plain' },
    });
    expect(await res.text()).toBe(big);
    expect(lines[0]!.obj).toMatchObject({
      body: `${'y'.repeat(100)}…`,
      bodyBytes: 300,
      truncated: true,
    });
    expect(lines[1]!.obj).toMatchObject({
      body: `${'x'.repeat(100)}…`,
      bodyBytes: 5_000,
      truncated: true,
    });
  });

  it('shows the default maxBodyBytes of 1024 and small bodies whole', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger, verbose: true }),
      mockTransport([
        { status: 200, body: { ok: true } },
        { status: 200, body: 'z'.repeat(2_000) },
      ]),
    ]);
    await client.post('http://api.test/a', { json: { n: 1 } });
    expect(lines[0]!.obj).toMatchObject({ body: '{"n":1}', bodyBytes: 7 });
    expect(lines[1]!.obj).toMatchObject({ body: '{"ok":true}', bodyBytes: 11 });
    expect(lines[1]!.obj.truncated).toBeUndefined();
    await client.get('http://api.test/b');
    expect((lines[3]!.obj.body as string).length).toBe(1_025);
    expect(DEFAULT_LOGGING_OPTIONS.maxBodyBytes).toBe(1024);
  });

  it('does not cut a multi-byte character in half', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger, verbose: true, maxBodyBytes: 4 }),
      mockTransport([{ status: 200 }]),
    ]);
    await client.post('http://api.test/a', {
      body: 'aé€b',
      headers: { 'content-type': 'text/plain' },
    });
    // a (1 byte) + é (2 bytes) fit in 4 bytes; € (3 bytes) does not.
    expect(lines[0]!.obj).toMatchObject({ body: 'aé…', bodyBytes: 7, truncated: true });
  });

  it('redacts secret fields of JSON and form bodies in verbose mode', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger, verbose: true }),
      mockTransport([{ status: 200, body: { access_token: 'tok-secret', expires_in: 3600 } }]),
    ]);
    await client.post('http://auth.test/token', {
      body: new URLSearchParams({ grant_type: 'client_credentials', client_secret: 'cs-secret' }),
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('tok-secret');
    expect(text).not.toContain('cs-secret');
    expect(lines[0]!.obj.body).toBe('grant_type=client_credentials&client_secret=[REDACTED]');
    expect(lines[1]!.obj.body).toBe('{"access_token":"[REDACTED]","expires_in":3600}');
  });

  it('summarises binary bodies by size and leaves out stream request bodies', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger, verbose: true }),
      mockTransport([
        { status: 200, headers: { 'content-type': 'image/png' }, body: new Uint8Array(64) },
      ]),
    ]);
    await client.post('http://api.test/a', { body: Readable.from([Buffer.from('streamed')]) });
    expect(lines[0]!.obj.body).toBeUndefined();
    expect(lines[0]!.obj.headers).toBeDefined();
    expect(lines[1]!.obj).toMatchObject({ body: '[64 bytes of image/png]', bodyBytes: 64 });
  });

  it('never reads a response body the caller asked to stream', async () => {
    const { logger, lines } = captureLogger();
    const stream = Readable.from([Buffer.from('chunk-1 '), Buffer.from('chunk-2')]);
    const client = createClient([
      logging({ logger, verbose: true }),
      mockTransport([{ status: 200, headers: { 'content-type': 'text/plain' }, body: stream }]),
    ]);
    const res = await client.get('http://api.test/stream', { readBody: false });
    expect(res.bodyRead).toBe(false);
    expect(stream.readableDidRead).toBe(false);
    expect(lines[1]!.obj.body).toBeUndefined();
    expect(lines[1]!.obj.headers).toEqual({ 'content-type': 'text/plain' });
    expect(await res.text()).toBe('chunk-1 chunk-2');
  });

  it('keeps headers and bodies out of lines unless verbose', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([logging({ logger }), mockTransport([{ status: 200, body: 'b' }])]);
    await client.post('http://api.test/a', { body: 'a', headers: { 'x-one': '1' } });
    for (const line of lines) {
      expect(line.obj.headers).toBeUndefined();
      expect(line.obj.body).toBeUndefined();
    }
  });

  it('never fails a call because the logger throws', async () => {
    const broken: Logger = {
      debug: () => {
        throw new Error('disk full');
      },
      info: () => {},
      warn: () => {},
      error: () => {
        throw new Error('disk full');
      },
    };
    const client = createClient([logging({ logger: broken }), mockTransport([{ status: 502 }])]);
    await expect(client.get('http://api.test/a')).resolves.toMatchObject({ status: 502 });
  });

  describe('without a logger', () => {
    const saved = process.env.NODE_DEBUG;
    let written: string[];
    let spy: jest.SpyInstance;
    beforeEach(() => {
      written = [];
      spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    });
    afterEach(() => {
      spy.mockRestore();
      if (saved === undefined) delete process.env.NODE_DEBUG;
      else process.env.NODE_DEBUG = saved;
    });

    it('is silent when NODE_DEBUG does not name extapi', async () => {
      process.env.NODE_DEBUG = 'http,net';
      const log = jest.spyOn(console, 'log').mockImplementation(() => {});
      const err = jest.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const middleware = logging();
        expect(middleware.name).toBe('logging');
        const client = createClient([middleware, mockTransport([{ status: 500 }])]);
        await expect(client.get('http://api.test/a')).resolves.toMatchObject({ status: 500 });
        expect(written).toEqual([]);
        expect(log).not.toHaveBeenCalled();
        expect(err).not.toHaveBeenCalled();
      } finally {
        log.mockRestore();
        err.mockRestore();
      }
    });

    it('writes compact, redacted lines to stderr when NODE_DEBUG names extapi', async () => {
      process.env.NODE_DEBUG = 'http,ExtApi';
      const client = createClient([
        logging({ verbose: true }),
        mockTransport([{ status: 503, body: 'busy' }]),
      ]);
      await client.get('http://u:p@api.test/a?token=zzz', {
        headers: { authorization: 'Bearer qqq' },
      });
      expect(written).toHaveLength(2);
      expect(written[0]).toMatch(
        new RegExp(
          `^EXTAPI ${process.pid}: request GET http://api\\.test/a\\?token=\\[REDACTED\\] \\{"headers"`,
        ),
      );
      expect(written[1]).toMatch(
        new RegExp(
          `^EXTAPI ${process.pid}: ERROR response 503 GET http://api\\.test/a\\?token=\\[REDACTED\\] \\d+ ms `,
        ),
      );
      expect(written.join('')).toContain('"body":"busy"');
      expect(written.join('')).not.toMatch(/zzz|qqq|u:p@/);
    });
  });

  it.each([
    ['extapi', true],
    ['http,extapi', true],
    [' EXTAPI ', true],
    ['ext*', true],
    ['*', true],
    ['extapix', false],
    ['http', false],
    ['', false],
    [undefined, false],
  ])('reads NODE_DEBUG=%p as %p', (value, enabled) => {
    expect(nodeDebugEnabled(value)).toBe(enabled);
  });

  it.each([
    [{ logger: console.log }, 'logger'],
    [{ logger: { debug() {}, info() {} } }, 'logger'],
    [{ verbose: 'yes' }, 'verbose'],
    [{ maxBodyBytes: -1 }, 'maxBodyBytes'],
    [{ maxBodyBytes: 1.5 }, 'maxBodyBytes'],
    [{ maxBodyBytes: Number.NaN }, 'maxBodyBytes'],
    [{ redactHeaders: 'authorization' }, 'redactHeaders'],
    [{ redactHeaders: [''] }, 'redactHeaders[0]'],
    [{ redactQuery: [42] }, 'redactQuery[0]'],
  ])('rejects %p at creation with a ConfigError naming %s', (options, option) => {
    let caught: unknown;
    try {
      logging(options as never);
    } catch (error) {
      caught = error;
    }
    expect(isConfigError(caught)).toBe(true);
    expect(caught).toMatchObject({ option });
  });

  it('refuses an unknown option with the nearest known one', () => {
    expect(() => logging({ verbos: true } as never)).toThrow(/verbos.*did you mean verbose\?/);
    expect(() => logging({ redactBodyField: ['x'] } as never)).toThrow(
      /did you mean redactBodyFields\?/,
    );
  });

  it('reads only own properties: a polluted Object.prototype turns nothing on', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    const { logger, lines } = captureLogger();
    try {
      proto.verbose = true;
      proto.maxBodyBytes = 1_000_000;
      proto.redactHeaders = 'not-an-array';
      const client = createClient([
        logging({ logger }),
        mockTransport([{ status: 200, body: { id: 'body-text' } }]),
      ]);
      await client.post('http://api.test/a', { body: 'request-body', headers: { 'x-h': 'v' } });
    } finally {
      for (const name of ['verbose', 'maxBodyBytes', 'redactHeaders']) delete proto[name];
    }
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(Object.keys(line.obj)).not.toContain('headers');
      expect(Object.keys(line.obj)).not.toContain('body');
    }
  });

  it('redacts redactBodyFields and redactHeaders names in bodies, keeping the rest', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger, verbose: true, redactBodyFields: ['Tenant'], redactHeaders: ['x-mine'] }),
      mockTransport([
        { status: 200, body: { tenant: 't-secret', 'X-Mine': ['m1', 'm2'], page: 2, ok: true } },
      ]),
    ]);
    await client.get('http://api.test/a');
    expect(lines[1]!.obj.body).toBe(
      '{"tenant":"[REDACTED]","X-Mine":"[REDACTED]","page":2,"ok":true}',
    );
  });

  it('redacts a secret member even when the preview cuts its value', async () => {
    const { logger, lines } = captureLogger();
    const client = createClient([
      logging({ logger, verbose: true, maxBodyBytes: 40 }),
      mockTransport([
        { status: 200, body: { headers: { cookie: `c=${'x'.repeat(100)}` }, after: 1 } },
      ]),
    ]);
    await client.get('http://api.test/a');
    expect(lines[1]!.obj.body).toBe('{"headers":{"cookie":"[REDACTED]"…');
  });

  it('treats an explicit undefined as the default', () => {
    expect(resolveLoggingOptions({ verbose: undefined, maxBodyBytes: undefined })).toMatchObject({
      verbose: false,
      maxBodyBytes: 1024,
    });
  });
});
