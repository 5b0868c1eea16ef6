import { createClient, isConfigError, type Middleware } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { busiestWindow } from '../../test/limits/windows.js';
import { rateLimit } from './rate-limit.js';

const URL_ = 'http://api.test/items';

/**
 * Grants of `count` calls sent at once through `limiter` (fake time, ms from the first call), and
 * the arrivals a server sees when the first `early` grants take `jitterMs` longer to arrive than
 * the rest: the worst spread of delays within that jitter for the busiest window.
 */
async function run(limiter: Middleware, count: number) {
  const origin = Date.now();
  const grants: number[] = [];
  const stamp: Middleware = (ctx, next) => {
    grants.push(Date.now() - origin);
    return next(ctx);
  };
  const client = createClient([limiter, stamp, mockTransport([{ status: 200 }])]);
  let done = false;
  const all = Promise.all(Array.from({ length: count }, () => client.get(URL_))).then(() => {
    done = true;
  });
  while (!done) await jest.advanceTimersByTimeAsync(1);
  await all;
  return grants;
}

/** The most arrivals a server can count in one `windowMs` when each grant's delay is anywhere in [0, jitterMs]. */
function worstArrivals(grants: number[], windowMs: number, jitterMs: number): number {
  // Delaying every grant of [t, t + jitterMs) by the full jitter and none after it packs the grants
  // of [t, t + windowMs + jitterMs) into [t + jitterMs, t + jitterMs + windowMs).
  return busiestWindow(grants, windowMs + jitterMs);
}

describe('rateLimit() deliveryJitterMs', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('is 25 ms by default: whatever the delays within 25 ms, a server never counts more than limit in a window', async () => {
    const limiter = rateLimit({ limit: 10, windowMs: 1000 });
    const grants = await run(limiter, 60);
    expect(worstArrivals(grants, 1000, 25)).toBeLessThanOrEqual(10);
    await limiter.close();
  });

  test('costs what it says: the steady rate is limit per windowMs + deliveryJitterMs, at least 95 % of limit with the default', async () => {
    const limiter = rateLimit({ limit: 10, windowMs: 1000 });
    const grants = await run(limiter, 101);
    // 100 intervals after the first grant: 10 per 1025 ms is 10,250 ms, the full rate 10,000.
    const span = grants[100]! - grants[0]!;
    expect(span).toBeGreaterThanOrEqual(100 * 102.5 - 102.5 / 2);
    const achieved = (10 * 1000) / (span / 10);
    expect(achieved / 10).toBeGreaterThanOrEqual(0.95);
    await limiter.close();
  });

  test('a larger deliveryJitterMs holds against a larger spread of delays', async () => {
    const limiter = rateLimit({ limit: 5, windowMs: 500, deliveryJitterMs: 200 });
    const grants = await run(limiter, 25);
    expect(worstArrivals(grants, 500, 200)).toBeLessThanOrEqual(5);
    await limiter.close();
  });

  test('deliveryJitterMs 0 holds the limit only where the limiter grants: a spread of 25 ms makes a window hold one more', async () => {
    const limiter = rateLimit({ limit: 10, windowMs: 1000, deliveryJitterMs: 0 });
    const grants = await run(limiter, 60);
    expect(busiestWindow(grants, 1000)).toBeLessThanOrEqual(10);
    expect(worstArrivals(grants, 1000, 25)).toBeGreaterThan(10);
    await limiter.close();
  });

  test.each([-1, Number.NaN, '25', 3e9])(
    'refuses deliveryJitterMs %p with a ConfigError naming it',
    (value) => {
      let error: unknown;
      try {
        rateLimit({ limit: 1, windowMs: 1000, deliveryJitterMs: value as number });
      } catch (caught) {
        error = caught;
      }
      expect(isConfigError(error)).toBe(true);
      expect((error as { option: string }).option).toBe('deliveryJitterMs');
    },
  );
});
