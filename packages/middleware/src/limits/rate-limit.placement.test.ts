// Where rateLimit counts what the partner counts: the stack check warns, from the placement rateLimit
// declares (per attempt, inside concurrencyLimit), about the placements that let a partner see more
// than the limit. Core knows nothing of rateLimit by name.
import { lintStack, type Middleware } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { retry } from '../retry/index.js';
import { timeout } from '../timeout.js';
import { concurrencyLimit } from './concurrency-limit.js';
import { rateLimit } from './rate-limit.js';

const limit = () => rateLimit({ limit: 10, windowMs: 1000 });
const slots = () => concurrencyLimit({ max: 2 });
const rules = (stack: Middleware[]) => lintStack(stack).map((w) => [w.rule, w.positions]);

describe('lintStack: where rateLimit counts what the partner counts', () => {
  test('finds nothing with rateLimit after retry and inside concurrencyLimit', () => {
    expect(
      rules([
        timeout({ ms: 1000 }),
        retry(),
        slots(),
        limit(),
        timeout({ ms: 100 }),
        mockTransport(),
      ]),
    ).toEqual([]);
    // concurrencyLimit above retry (a cap on this process's calls) holds rateLimit inside it too.
    expect(rules([slots(), retry(), limit(), mockTransport()])).toEqual([]);
  });

  test('warns when rateLimit is outside retry: the partner can see limit × attempts', () => {
    const warnings = lintStack([limit(), retry(), mockTransport()]);
    expect(warnings.map((w) => [w.rule, w.positions])).toEqual([['outside-retry', [0, 1]]]);
    expect(warnings[0]!.message).toContain('rateLimit (stack[0]) runs once per attempt');
    expect(warnings[0]!.message).toContain('limit × attempts');
    expect(warnings[0]!.message).toContain('place rateLimit() after retry()');
  });

  test('warns when rateLimit is outside concurrencyLimit: a granted start may wait for a slot', () => {
    const warnings = lintStack([retry(), limit(), slots(), mockTransport()]);
    expect(warnings.map((w) => [w.rule, w.positions])).toEqual([['order', [1, 2]]]);
    expect(warnings[0]!.message).toContain(
      'rateLimit (stack[1]) must sit inside concurrencyLimit (stack[2])',
    );
    expect(warnings[0]!.message).toContain('wait for a slot');
  });

  test('reports both when rateLimit is outside both', () => {
    expect(rules([limit(), retry(), slots()])).toEqual([
      ['outside-retry', [0, 1]],
      ['order', [0, 2]],
    ]);
  });
});
