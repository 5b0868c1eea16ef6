import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const defaults = { baseMs: 200, maxMs: 20_000 };

  test.each<[number, number, number]>([
    // attempt, random(), expected delay
    [1, 0, 0],
    [1, 0.5, 100],
    [1, 0.999, 199],
    [2, 0.5, 200],
    [3, 0.5, 400],
    [4, 0.5, 800],
    [7, 0.5, 6_400],
    [8, 0.5, 10_000],
    [9, 0.999, 19_980],
    [50, 0.999, 19_980],
    [2_000, 0.5, 10_000],
  ])('after attempt %i with random() = %f waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, defaults, () => random)).toBe(expected);
  });

  test('stays within [0, ceiling) for Math.random', () => {
    for (let i = 0; i < 1_000; i++) {
      const delay = backoffDelay(3, defaults);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(800);
    }
  });

  test('waits nothing with baseMs 0', () => {
    expect(backoffDelay(5, { baseMs: 0, maxMs: 1_000 }, () => 0.9)).toBe(0);
  });
});
