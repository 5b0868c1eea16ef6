import { lintStack } from './stack-lint.js';
import type { Context, HttpResponse, Middleware, Next } from './types.js';

// Stand-ins with the names the @extapi/middleware factories give their functions.
function named(name: string): Middleware {
  const fn = async (ctx: Context, next: Next): Promise<HttpResponse> => next(ctx);
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}
const rules = (...names: string[]) => lintStack(names.map(named)).map((w) => [w.rule, w.positions]);

describe('lintStack: where rateLimit counts what the partner counts', () => {
  test('finds nothing with rateLimit after retry and inside concurrencyLimit', () => {
    expect(
      rules('timeout', 'retry', 'concurrencyLimit', 'rateLimit', 'timeout', 'transport'),
    ).toEqual([]);
  });

  test('warns when rateLimit is outside retry: the partner can see limit × attempts', () => {
    expect(rules('rateLimit', 'retry', 'transport')).toEqual([
      ['rate-limit-outside-retry', [0, 1]],
    ]);
    expect(lintStack([named('rateLimit'), named('retry')])[0]!.message).toContain(
      'limit × attempts',
    );
  });

  test('warns when rateLimit is outside concurrencyLimit: a granted start may wait for a slot', () => {
    expect(rules('retry', 'rateLimit', 'concurrencyLimit', 'transport')).toEqual([
      ['rate-limit-outside-concurrency-limit', [1, 2]],
    ]);
  });

  test('reports both when rateLimit is outside both', () => {
    expect(rules('rateLimit', 'retry', 'concurrencyLimit')).toEqual([
      ['rate-limit-outside-retry', [0, 1]],
      ['rate-limit-outside-concurrency-limit', [0, 2]],
    ]);
  });
});
