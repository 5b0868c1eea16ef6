import { Readable } from 'node:stream';
import { createClient, isConfigError, lintStack, type Middleware } from '@extapi/core';
import { type MockStep, mockTransport } from '@extapi/core/testing';
import { retry } from '../retry/index.js';
import { bearerAuth } from './bearer.js';

const URL_ = 'http://api.test/me';

/** Answers 401 unless the request carries `Bearer <valid>`. */
function guarded(valid: () => string): MockStep {
  return (ctx) => ({
    status: ctx.request.headers.get('authorization') === `Bearer ${valid()}` ? 200 : 401,
  });
}

describe('bearerAuth()', () => {
  test('returns a named async function', () => {
    expect(bearerAuth(() => 't').name).toBe('bearerAuth');
  });

  test('sets Authorization: Bearer on every pass and marks it sensitive', async () => {
    const transport = mockTransport();
    const client = createClient([bearerAuth(() => 'tok-1'), transport]);
    await client.get(URL_);
    await client.get(URL_);
    expect(transport.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer tok-1',
      'Bearer tok-1',
    ]);
    expect(transport.requests[0]!.ctx.sensitiveHeaders.has('authorization')).toBe(true);
  });

  test('asks getToken once per attempt after retry()', async () => {
    let n = 0;
    const getToken = jest.fn(() => `t${++n}`);
    const transport = mockTransport([{ status: 503 }, { status: 200 }]);
    const client = createClient([
      retry({ sleep: async () => {} }),
      bearerAuth(getToken),
      transport,
    ]);
    await client.get(URL_);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(getToken).toHaveBeenCalledWith({ refresh: false });
    expect(transport.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer t1',
      'Bearer t2',
    ]);
  });

  test('accepts an async getToken', async () => {
    const transport = mockTransport();
    await createClient([bearerAuth(async () => 'async-token'), transport]).get(URL_);
    expect(transport.requests[0]!.headers.authorization).toBe('Bearer async-token');
  });

  test('on a 401 discards the response, refreshes the token once and re-sends once', async () => {
    let current = 'old';
    const getToken = jest.fn(({ refresh }: { refresh: boolean }) => {
      if (refresh) current = 'new';
      return current;
    });
    const body = Readable.from([Buffer.from('expired')]);
    const transport = mockTransport([
      { status: 401, body },
      { status: 200, body: 'me' },
    ]);
    const client = createClient([bearerAuth(getToken), transport]);
    const res = await client.get(URL_, { readBody: false });
    expect(res.status).toBe(200);
    expect(getToken.mock.calls).toEqual([[{ refresh: false }], [{ refresh: true }]]);
    expect(transport.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer old',
      'Bearer new',
    ]);
    expect(body.destroyed).toBe(true);
  });

  test('returns a second 401 as it is', async () => {
    const getToken = jest.fn(() => 'never-valid');
    const transport = mockTransport([{ status: 401 }, { status: 401, body: 'still no' }]);
    const res = await createClient([bearerAuth(getToken), transport]).get(URL_);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('still no');
    expect(transport.requests).toHaveLength(2);
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  test('returns the 401 without refreshing when refreshOn401 is false', async () => {
    const getToken = jest.fn(() => 'static');
    const transport = mockTransport([{ status: 401 }, { status: 200 }]);
    const res = await createClient([bearerAuth(getToken, { refreshOn401: false }), transport]).get(
      URL_,
    );
    expect(res.status).toBe(401);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(transport.requests).toHaveLength(1);
  });

  test('does not re-send a body that cannot be replayed', async () => {
    const getToken = jest.fn(() => 't');
    const transport = mockTransport([{ status: 401 }, { status: 200 }]);
    const client = createClient([bearerAuth(getToken), transport]);
    const res = await client.post(URL_, { body: Readable.from([Buffer.from('once')]) });
    expect(res.status).toBe(401);
    expect(transport.requests).toHaveLength(1);
    expect(getToken).toHaveBeenCalledTimes(1);
  });

  test('20 concurrent 401s cause exactly one token refresh', async () => {
    let valid = 'v1';
    let refreshes = 0;
    const getToken = async ({ refresh }: { refresh: boolean }) => {
      if (!refresh) return valid === 'v1' ? 'stale' : valid;
      refreshes++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      valid = `v${refreshes + 1}`;
      return valid;
    };
    // Spread the 401s over time so some arrive during the refresh and some after it.
    const transport = mockTransport([], {
      fallback: (ctx, call) => ({
        status: ctx.request.headers.get('authorization') === `Bearer ${valid}` ? 200 : 401,
        delayMs: call % 5,
      }),
    });
    const client = createClient([bearerAuth(getToken), transport]);
    const results = await Promise.all(Array.from({ length: 20 }, () => client.get(URL_)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(refreshes).toBe(1);
    expect(transport.requests).toHaveLength(40);
  });

  test('uses the token of a refresh that finished after its request went out, without refreshing again', async () => {
    let refreshes = 0;
    let issued = 'stale';
    const getToken = ({ refresh }: { refresh: boolean }) => {
      if (refresh) {
        refreshes++;
        issued = 'fresh';
      }
      return issued;
    };
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const transport = mockTransport(
      [
        // Call B (sent first, with the stale token): answers 401 only after A's refresh is over.
        async () => {
          await slowGate;
          return { status: 401 };
        },
        // Call A: 401 at once, refreshes.
        { status: 401 },
      ],
      { fallback: guarded(() => 'fresh') },
    );
    const client = createClient([bearerAuth(getToken), transport]);
    const b = client.get(URL_);
    const a = await client.get(URL_);
    expect(a.status).toBe(200);
    releaseSlow();
    expect((await b).status).toBe(200);
    expect(refreshes).toBe(1);
  });

  test('rejects every waiting call when the refresh fails, and refreshes anew next time', async () => {
    let attempt = 0;
    const getToken = async ({ refresh }: { refresh: boolean }) => {
      if (!refresh) return 'stale';
      attempt++;
      if (attempt === 1) throw new Error('identity provider down');
      return 'fresh';
    };
    const transport = mockTransport([], { fallback: guarded(() => 'fresh') });
    const client = createClient([bearerAuth(getToken), transport]);
    await expect(client.get(URL_)).rejects.toThrow('identity provider down');
    expect((await client.get(URL_)).status).toBe(200);
    expect(attempt).toBe(2);
  });

  test("rejects with the caller's reason when aborted while waiting for the refresh", async () => {
    const getToken = ({ refresh }: { refresh: boolean }) =>
      refresh ? new Promise<string>(() => {}) : 'stale';
    const client = createClient([bearerAuth(getToken), mockTransport([{ status: 401 }])]);
    const controller = new AbortController();
    const reason = new Error('cancel');
    setTimeout(() => controller.abort(reason), 10);
    await expect(client.get(URL_, { signal: controller.signal })).rejects.toBe(reason);
  });

  test('keeps the token out of errors about a bad token', async () => {
    const client = createClient([bearerAuth(() => 'secret\r\ninjected'), mockTransport()]);
    const error = await client.get(URL_).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect(String(error)).not.toContain('secret');
    await expect(
      createClient([bearerAuth(() => '' as string), mockTransport()]).get(URL_),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG',
    });
  });

  test('re-sends on a copy, so headers the first pass set inside do not leak', async () => {
    const appender: Middleware = (ctx, next) => {
      ctx.request.headers.append('x-pass', 'inner');
      return next(ctx);
    };
    let refreshed = false;
    const transport = mockTransport([{ status: 401 }, { status: 200 }]);
    const client = createClient([
      bearerAuth(({ refresh }) => {
        if (refresh) refreshed = true;
        return refreshed ? 'new' : 'old';
      }),
      appender,
      transport,
    ]);
    await client.get(URL_);
    expect(transport.requests[1]!.headers['x-pass']).toBe('inner, inner');
    expect(transport.requests[1]!.ctx).not.toBe(transport.requests[0]!.ctx);
  });

  test.each<[string, unknown, unknown]>([
    ['getToken', 'a token', undefined],
    ['refreshOn401', () => 't', { refreshOn401: 'yes' }],
    ['options', () => 't', 5],
  ])('refuses a bad %s at creation', (option, getToken, options) => {
    let error: unknown;
    try {
      bearerAuth(getToken as never, options as never);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });
});

describe('bearerAuth and the stack check', () => {
  it('exposes refreshOn401 so that a static token outside retry draws no warning', () => {
    expect(lintStack([bearerAuth(() => 't', { refreshOn401: false }), retry()])).toEqual([]);
    expect(lintStack([bearerAuth(() => 't'), retry()])).toHaveLength(1);
  });
});
