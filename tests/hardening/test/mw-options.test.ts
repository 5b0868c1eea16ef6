// The options of retry, timeout, expectStatus, headers, the auth middleware and circuitBreaker:
// misspelt keys refused with a "did you mean", a polluted Object.prototype ignored (issue 12 #8).
import {
  createClient,
  isConfigError,
  type Middleware,
  TransportError,
  type Transport,
} from '@extapi/core';
import { type MockStep, mockTransport } from '@extapi/core/testing';
import {
  basicAuth,
  bearerAuth,
  circuitBreaker,
  createRetryBudget,
  expectStatus,
  retry,
  timeout,
} from '@extapi/middleware';

const URL_ = 'http://api.test/items';

function configError(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    expect(isConfigError(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected a ConfigError');
}

describe('middleware options: unknown keys', () => {
  it.each<[string, string, () => unknown]>([
    ['retry({ maxRetries })', 'maxAttempts', () => retry({ maxRetries: 5 } as never)],
    ['retry({ maxAtempts })', 'maxAttempts', () => retry({ maxAtempts: 5 } as never)],
    ['retry({ backoff: { maxMS } })', 'maxMs', () => retry({ backoff: { maxMS: 5 } } as never)],
    ['retry({ budget: { ratoi } })', 'ratio', () => retry({ budget: { ratoi: 0.1 } } as never)],
    [
      'createRetryBudget({ persecond })',
      'perSecond',
      () => createRetryBudget({ persecond: 1 } as never),
    ],
    ['timeout({ timeout })', 'ms', () => timeout({ timeout: 5 } as never)],
    [
      'bearerAuth(fn, { refreshOn410 })',
      'refreshOn401',
      () => bearerAuth(() => 't', { refreshOn410: false } as never),
    ],
    [
      'basicAuth({ pasword })',
      'password',
      () => basicAuth({ username: 'u', password: 'p', pasword: 'p' } as never),
    ],
    [
      'circuitBreaker({ minimumCall })',
      'minimumCalls',
      () => circuitBreaker({ minimumCall: 5 } as never),
    ],
  ])('refuses %s and suggests %s', (_name, suggestion, make) => {
    const error = configError(make);
    expect(error.message).toContain(`did you mean ${suggestion}?`);
  });

  it.each<[string, () => unknown]>([
    ['retry maxRetryAfterMs', () => retry({ maxRetryAfterMs: 2 ** 31 })],
    ['retry backoff.maxMs', () => retry({ backoff: { maxMs: 3e9 } })],
    ['timeout ms', () => timeout({ ms: 2 ** 31 })],
    ['circuitBreaker windowMs', () => circuitBreaker({ windowMs: 3e9 })],
    ['circuitBreaker openMs', () => circuitBreaker({ openMs: 3e9 })],
  ])('refuses a %s above 2^31 − 1 ms', (_name, make) => {
    expect(configError(make).message).toContain('2147483647');
  });
});

describe('middleware options with Object.prototype polluted', () => {
  const POLLUTION: Record<string, unknown> = {
    methods: 'all',
    maxAttempts: 10,
    statusCodes: [404],
    idempotencyKey: true,
    budget: false,
    maxRetryAfterMs: 0,
    refreshOn401: false,
    minimumCalls: 1,
    failureRatio: 0.01,
    ms: 1,
    password: 'polluted-password',
  };

  /** Runs `body` with every POLLUTION key set on Object.prototype, then removes them. */
  async function polluted(body: () => Promise<void>): Promise<void> {
    for (const [key, value] of Object.entries(POLLUTION)) {
      Object.defineProperty(Object.prototype, key, {
        value,
        configurable: true,
        writable: true,
        enumerable: true,
      });
    }
    try {
      await body();
    } finally {
      for (const key of Object.keys(POLLUTION)) {
        delete (Object.prototype as Record<string, unknown>)[key];
      }
    }
  }

  function client(stack: Middleware[], script: MockStep[]) {
    const transport = mockTransport(script);
    return { client: createClient([...stack, transport as Transport]), transport };
  }

  afterAll(() => {
    // Nothing may be left behind for the other suites.
    expect(({} as Record<string, unknown>).methods).toBeUndefined();
  });

  it('retry(): a failed POST is sent once and a GET tried 3 times (methods, maxAttempts)', async () => {
    await polluted(async () => {
      const fast = { sleep: async () => {} };
      const post = client([retry(fast)], [{ error: new TransportError('reset', 'ECONNRESET') }]);
      await expect(post.client.post(URL_, { body: 'x' })).rejects.toMatchObject({
        code: 'ECONNRESET',
      });
      expect(post.transport.requests).toHaveLength(1);
      // No Idempotency-Key was added either.
      expect(post.transport.requests[0]!.headers['idempotency-key']).toBeUndefined();

      const get = client([retry(fast)], [{ status: 503 }]);
      expect((await get.client.get(URL_)).status).toBe(503);
      expect(get.transport.requests).toHaveLength(3);

      const notFound = client([retry(fast)], [{ status: 404 }]);
      expect((await notFound.client.get(URL_)).status).toBe(404);
      expect(notFound.transport.requests).toHaveLength(1);
    });
  });

  it('bearerAuth(): still refreshes the token on a 401 (refreshOn401)', async () => {
    await polluted(async () => {
      const asked: boolean[] = [];
      const auth = bearerAuth(({ refresh }) => {
        asked.push(refresh);
        return refresh ? 'fresh' : 'stale';
      });
      const { client: c, transport } = client([auth], [{ status: 401 }, { status: 200 }]);
      expect((await c.get(URL_)).status).toBe(200);
      expect(asked).toEqual([false, true]);
      expect(transport.requests.map((r) => r.headers.authorization)).toEqual([
        'Bearer stale',
        'Bearer fresh',
      ]);
    });
  });

  it('circuitBreaker(): one failure does not open the circuit (minimumCalls, failureRatio)', async () => {
    await polluted(async () => {
      const breaker = circuitBreaker();
      const { client: c } = client([breaker], [{ status: 500 }]);
      await c.get(URL_);
      expect(breaker.state('http://api.test')).toBe('closed');
    });
  });

  it('timeout() and basicAuth() do not take a required value from the prototype (ms, password)', async () => {
    await polluted(async () => {
      expect(configError(() => timeout({} as never))).toMatchObject({ option: 'ms' });
      const error = configError(() => basicAuth({ username: 'u' } as never));
      expect(error).toMatchObject({ option: 'password' });
      expect(error.message).not.toContain('polluted-password');
    });
  });

  it('expectStatus() keeps accepting every 2xx', async () => {
    await polluted(async () => {
      const { client: c } = client([expectStatus()], [{ status: 204 }]);
      expect((await c.delete(URL_)).status).toBe(204);
    });
  });
});
