import { setMaxListeners } from 'node:events';
import {
  createClient,
  createResponse,
  HttpStatusError,
  isConfigError,
  isQueueFullError,
  MAX_TIMER_MS,
  type Middleware,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { busiestWindow } from '../../test/limits/windows.js';
import { createLocalWindow, type StartGate } from './local-window.js';
import { rateLimit } from './rate-limit.js';
import { serverPauseMs } from './server-limits.js';

const URL_ = 'http://api.test/items';
const NEVER = new AbortController().signal;

function configError(options: unknown): unknown {
  try {
    rateLimit(options as never);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('rateLimit() options', () => {
  test('returns a named async function', () => {
    expect(rateLimit({ limit: 1, windowMs: 1 }).name).toBe('rateLimit');
  });

  test.each([
    ['limit', { limit: 0, windowMs: 1000 }],
    ['limit', { limit: 2.5, windowMs: 1000 }],
    ['limit', { windowMs: 1000 }],
    ['windowMs', { limit: 1, windowMs: 0 }],
    ['windowMs', { limit: 1, windowMs: -1 }],
    ['windowMs', { limit: 1, windowMs: 10.5 }],
    ['windowMs', { limit: 1, windowMs: Number.POSITIVE_INFINITY }],
    ['maxQueue', { limit: 1, windowMs: 1, maxQueue: Number.NaN }],
    ['maxPauseMs', { limit: 1, windowMs: 1, maxPauseMs: -1 }],
    ['respectServerLimits', { limit: 1, windowMs: 1, respectServerLimits: 'yes' }],
    ['id', { limit: 1, windowMs: 1, redis: 'redis://127.0.0.1:1' }],
    ['id', { limit: 1, windowMs: 1, id: '' }],
  ])('refuses an invalid %s with a ConfigError naming it', (option, options) => {
    const error = configError(options);
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option });
    expect((error as Error).message).toContain(option);
  });
});

describe('rateLimit() options, read with the options kit', () => {
  test('refuses an unknown option with the nearest known one', () => {
    const error = configError({ limit: 1, window: 1000 });
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option: 'window' });
    expect((error as Error).message).toContain('did you mean windowMs?');
    expect((configError({ limit: 1, windowMs: 1, maxQueu: 1 }) as Error).message).toContain(
      'did you mean maxQueue?',
    );
  });

  test('refuses a redisTimeoutMs longer than a timer can wait', () => {
    expect(configError({ limit: 1, windowMs: 1, redisTimeoutMs: 3e9 })).toMatchObject({
      option: 'redisTimeoutMs',
    });
    expect(configError({ limit: 1, windowMs: 1, redisTimeoutMs: MAX_TIMER_MS })).toBeUndefined();
  });

  test('does not quote a redis URL it refuses (it may hold a password)', () => {
    const error = configError({ limit: 1, windowMs: 1, redis: 'http://u:PW@h', id: 'x' });
    expect(error).toMatchObject({ option: 'redis' });
    expect((error as Error).message).not.toContain('PW');
  });

  test('reads only own properties: a polluted Object.prototype changes nothing', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    const transport = mockTransport([{ status: 200 }]);
    try {
      proto.maxQueue = 0;
      proto.respectServerLimits = 'no';
      proto.redis = 'redis://127.0.0.1:1';
      proto.windowMs = 1;
      const client = createClient([rateLimit({ limit: 1, windowMs: 60_000 }), transport]);
      await client.get(URL_);
      // With the prototype's maxQueue 0 the second call would be refused; with its windowMs 1
      // it would start at once. It waits instead.
      const controller = new AbortController();
      const second = client.get(URL_, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort(new Error('stop'));
      await expect(second).rejects.toThrow('stop');
      expect(transport.requests).toHaveLength(1);
    } finally {
      for (const name of ['maxQueue', 'respectServerLimits', 'redis', 'windowMs']) {
        delete proto[name];
      }
    }
  });
});

describe('rateLimit() with waits longer than a timer can hold', () => {
  /** How many timers the code under test sets while a call waits for `ms`, and their longest delay. */
  async function timersWhileWaiting(middleware: Middleware, first: object, ms: number) {
    const client = createClient([middleware, mockTransport([first, { status: 200 }])]);
    await client.get(URL_).catch(() => {});
    const spy = jest.spyOn(globalThis, 'setTimeout');
    const controller = new AbortController();
    const waiting = client.get(URL_, { signal: controller.signal });
    try {
      // Real time passes: a timer longer than 2^31-1 ms fires after 1 ms, so a spinning gate
      // would set hundreds of timers here.
      await new Promise<void>((resolve) => {
        const until = performance.now() + ms;
        const poll = () => (performance.now() >= until ? resolve() : setImmediate(poll));
        poll();
      });
      const delays = spy.mock.calls.map((call) => Number(call[1] ?? 0));
      return { count: delays.length, longest: Math.max(0, ...delays) };
    } finally {
      spy.mockRestore();
      controller.abort(new Error('stop'));
      await expect(waiting).rejects.toThrow('stop');
    }
  }

  test('a windowMs of 3e9 holds the next call without spinning', async () => {
    const limiter = rateLimit({ limit: 1, windowMs: 3e9 });
    const { count, longest } = await timersWhileWaiting(limiter, { status: 200 }, 50);
    expect(count).toBeLessThanOrEqual(2);
    expect(longest).toBeLessThanOrEqual(MAX_TIMER_MS);
    await limiter.close();
  });

  test('a server pause of 3e9 ms (maxPauseMs 3e9) holds the next call without spinning', async () => {
    const limiter = rateLimit({ limit: 100, windowMs: 1000, maxPauseMs: 3e9 });
    const answer = { status: 429, headers: { 'retry-after': '3000000' } };
    const { count, longest } = await timersWhileWaiting(limiter, answer, 50);
    expect(count).toBeLessThanOrEqual(2);
    expect(longest).toBeLessThanOrEqual(MAX_TIMER_MS);
    await limiter.close();
  });
});

describe('createLocalWindow() where timers have no unref() (browsers, workerd)', () => {
  test('lets a call through and sweeps with a plain numeric interval', async () => {
    const realSetInterval = globalThis.setInterval;
    const intervals: unknown[] = [];
    // As a browser's: the interval is a number, with no unref() to call.
    globalThis.setInterval = ((handler: () => void, ms: number) => {
      const id = Number(realSetInterval(handler, ms));
      intervals.push(id);
      return id;
    }) as typeof setInterval;
    let gate: StartGate | undefined;
    try {
      gate = createLocalWindow({ limit: 1, windowMs: 1000 }, 0);
      await gate.acquire('', NEVER);
      expect(intervals).toHaveLength(1);
      expect(typeof intervals[0]).toBe('number');
    } finally {
      gate?.close();
      globalThis.setInterval = realSetInterval;
      // Cleared here too, so that a window that failed to keep its interval leaks no timer.
      for (const id of intervals) clearInterval(id as number);
    }
  });
});

describe('createLocalWindow()', () => {
  let gate: StartGate | undefined;
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    gate?.close();
    gate = undefined;
    jest.useRealTimers();
  });

  /** Starts `count` calls at once and returns the (fake) time each was let through. */
  async function startTimes(g: StartGate, count: number, key = ''): Promise<number[]> {
    const origin = Date.now();
    const times: number[] = [];
    const all = Array.from({ length: count }, () =>
      g.acquire(key, NEVER).then(() => times.push(Date.now() - origin)),
    );
    const done = Promise.all(all);
    let finished = false;
    done.then(() => {
      finished = true;
    });
    while (!finished) await jest.advanceTimersByTimeAsync(1);
    return times;
  }

  test('30 calls at 10 per 1000 ms: never more than 10 in any 1000 ms, and at least 2 s in all', async () => {
    gate = createLocalWindow({ limit: 10, windowMs: 1000 }, Number.POSITIVE_INFINITY, Date.now);
    const times = await startTimes(gate, 30);
    expect(busiestWindow(times, 1000)).toBe(10);
    expect(times[29]).toBeGreaterThanOrEqual(2000);
    expect(times[29]).toBeLessThan(3000);
  });

  test('spreads the starts instead of sending a burst', async () => {
    gate = createLocalWindow({ limit: 10, windowMs: 1000 }, Number.POSITIVE_INFINITY, Date.now);
    const times = await startTimes(gate, 10);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(50);
    }
  });

  test.each([
    [1, 100],
    [3, 50],
    [10, 1000],
    [7, 333],
    [50, 100],
    [1000, 1000],
  ])(
    'a steady stream at %i per %i ms keeps the bound and gets at least 90%% of the rate',
    async (limit, windowMs) => {
      gate = createLocalWindow({ limit, windowMs }, Number.POSITIVE_INFINITY, Date.now);
      const count = limit * 5 + 3;
      const times = await startTimes(gate, count);
      expect(busiestWindow(times, windowMs)).toBeLessThanOrEqual(limit);
      const achieved = (count - 1) / (times[count - 1]! - times[0]!);
      expect(achieved).toBeGreaterThanOrEqual((0.9 * limit) / windowMs);
    },
  );

  test('keeps the bound when calls arrive at random times', async () => {
    gate = createLocalWindow({ limit: 4, windowMs: 200 }, Number.POSITIVE_INFINITY, Date.now);
    const g = gate;
    const times: number[] = [];
    const origin = Date.now();
    const calls: Promise<unknown>[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 60; i++) {
      calls.push(g.acquire('', NEVER).then(() => times.push(Date.now() - origin)));
      await jest.advanceTimersByTimeAsync(Math.floor(random() * 120));
    }
    await jest.advanceTimersByTimeAsync(5_000);
    await Promise.all(calls);
    expect(busiestWindow(times, 200)).toBeLessThanOrEqual(4);
  });

  test('pause() holds every start of the key until it ends, and only that key', async () => {
    gate = createLocalWindow({ limit: 100, windowMs: 1000 }, Number.POSITIVE_INFINITY, Date.now);
    const g = gate;
    g.pause('a', 700);
    const [a, b] = await Promise.all([startTimes(g, 3, 'a'), startTimes(g, 1, 'b')]);
    expect(a[0]).toBeGreaterThanOrEqual(700);
    expect(b[0]).toBeLessThan(5);
  });

  test('drops idle keys once their window has passed', async () => {
    gate = createLocalWindow({ limit: 2, windowMs: 100 }, Number.POSITIVE_INFINITY, Date.now);
    await startTimes(gate, 5, 'x');
    await startTimes(gate, 1, 'y');
    expect(gate.keys).toBe(2);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(gate.keys).toBe(0);
  });
});

describe('rateLimit()', () => {
  test('starts waiting calls in FIFO order', async () => {
    const transport = mockTransport();
    const client = createClient([rateLimit({ limit: 1, windowMs: 10 }), transport]);
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.get(`http://api.test/${i}`)));
    expect(transport.requests.map((r) => new URL(r.url).pathname)).toEqual(
      Array.from({ length: 8 }, (_, i) => `/${i}`),
    );
  });

  test('a queued call whose signal aborts rejects at once with the reason and never starts', async () => {
    const transport = mockTransport();
    const client = createClient([rateLimit({ limit: 1, windowMs: 60 }), transport]);
    const first = client.get('http://api.test/first');
    const controller = new AbortController();
    const aborted = client.get('http://api.test/aborted', { signal: controller.signal });
    const third = client.get('http://api.test/third');
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    await Promise.all([first, third]);
    expect(transport.requests.map((r) => new URL(r.url).pathname)).toEqual(['/first', '/third']);
  });

  test('rejects with QueueFullError at once beyond maxQueue waiting calls', async () => {
    const transport = mockTransport();
    const client = createClient([rateLimit({ limit: 1, windowMs: 30, maxQueue: 2 }), transport]);
    const accepted = [client.get(URL_), client.get(URL_), client.get(URL_)];
    expect(isQueueFullError(await client.get(URL_).catch((e: unknown) => e))).toBe(true);
    await Promise.all(accepted);
    expect(transport.requests).toHaveLength(3);
  });

  test('keys are isolated: calls queued for host A do not delay one for host B', async () => {
    const limiter = rateLimit({ limit: 1, windowMs: 1000, key: (ctx) => ctx.request.url.host });
    const client = createClient([limiter, mockTransport()]);
    await client.get('http://a.test/');
    const controller = new AbortController();
    setMaxListeners(200, controller.signal);
    const queued = Array.from({ length: 100 }, () =>
      client.get('http://a.test/', { signal: controller.signal }).catch(() => 'aborted'),
    );
    let status: unknown = 'pending';
    void client.get('http://b.test/').then(
      (res) => {
        status = res.status;
      },
      (error: unknown) => {
        status = error;
      },
    );
    // A's next start is 1000 ms away: B is let through within this turn of the event loop (a
    // setImmediate runs after every pending microtask), before any timer, whatever the machine.
    await new Promise((resolve) => setImmediate(resolve));
    expect(status).toBe(200);
    controller.abort();
    expect(new Set(await Promise.all(queued))).toEqual(new Set(['aborted']));
  });

  test('holds the key for a Retry-After on 429, capped by maxPauseMs', async () => {
    // Fake timers: the pause ends at the 150 ms cap or, uncapped, at 5 s, which the test never
    // reaches; the limiter's clock (performance.now) is faked with them.
    jest.useFakeTimers();
    try {
      const transport = mockTransport([
        { status: 429, headers: { 'retry-after': '5' } },
        { status: 200 },
      ]);
      const client = createClient([
        rateLimit({ limit: 1000, windowMs: 1000, maxPauseMs: 150 }),
        transport,
      ]);
      expect((await client.get(URL_)).status).toBe(429);
      let status: unknown = 'pending';
      const second = client.get(URL_).then((res) => {
        status = res.status;
      });
      await jest.advanceTimersByTimeAsync(149);
      expect(status).toBe('pending');
      expect(transport.requests).toHaveLength(1);
      // At 150 ms the cap ends the pause: the call goes through with the clock standing there.
      await jest.advanceTimersByTimeAsync(1);
      await second;
      expect(status).toBe(200);
    } finally {
      jest.useRealTimers();
    }
  });

  test('holds the key when RateLimit-Remaining is 0 until RateLimit-Reset', async () => {
    const transport = mockTransport([
      { status: 200, headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': '1' } },
      { status: 200 },
    ]);
    const client = createClient([
      rateLimit({ limit: 1000, windowMs: 1000, maxPauseMs: 120 }),
      transport,
    ]);
    const started = performance.now();
    await client.get(URL_);
    await client.get(URL_);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  test('reads the pause from a HttpStatusError thrown inside it', async () => {
    const expect429: Middleware = async (ctx, next) => {
      const response = await next(ctx);
      if (response.status === 429) throw new HttpStatusError(response);
      return response;
    };
    const transport = mockTransport([
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200 },
    ]);
    const client = createClient([
      rateLimit({ limit: 1000, windowMs: 1000, maxPauseMs: 100 }),
      expect429,
      transport,
    ]);
    const started = performance.now();
    await expect(client.get(URL_)).rejects.toBeInstanceOf(HttpStatusError);
    await client.get(URL_);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  test('ignores server limits when respectServerLimits is false', async () => {
    // Fake timers: a 5 s pause would end only if the test moved the clock that far; it moves it
    // by one emission interval (1 ms at 1000 per second) and no more.
    jest.useFakeTimers();
    try {
      const transport = mockTransport([
        { status: 429, headers: { 'retry-after': '5' } },
        { status: 200 },
      ]);
      const client = createClient([
        rateLimit({ limit: 1000, windowMs: 1000, respectServerLimits: false }),
        transport,
      ]);
      expect((await client.get(URL_)).status).toBe(429);
      let status: unknown = 'pending';
      const second = client.get(URL_).then((res) => {
        status = res.status;
      });
      await jest.advanceTimersByTimeAsync(1);
      await second;
      expect(status).toBe(200);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('serverPauseMs()', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const response = (status: number, headers: Record<string, string>) =>
    createResponse({ status, headers: new Headers(headers), url: URL_, method: 'GET', body: null });

  test.each([
    [429, { 'retry-after': '2' }, 2000],
    [503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, 3000],
    [429, { 'retry-after': '0' }, 0],
    [200, { 'retry-after': '2' }, undefined],
    [429, {}, undefined],
    [200, { 'ratelimit-remaining': '0', 'ratelimit-reset': '4' }, 4000],
    [200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 5) }, 5000],
    [200, { 'ratelimit-remaining': '3', 'ratelimit-reset': '4' }, undefined],
    [200, { ratelimit: '"default";r=0;t=6' }, 6000],
    [200, { ratelimit: 'limit=10, remaining=0, reset=7' }, 7000],
    [200, { ratelimit: '"default";r=5;t=6' }, undefined],
    [429, { 'ratelimit-remaining': '0', 'ratelimit-reset': '1' }, 1000],
  ])('status %i with %j → %p ms', (status, headers, expected) => {
    expect(serverPauseMs(response(status, headers), now)).toBe(expected);
  });
});
