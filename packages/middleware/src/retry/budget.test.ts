import { isConfigError } from '@extapi/core';
import { createRetryBudget } from './budget.js';

describe('createRetryBudget', () => {
  test('starts full with perSecond tokens and refuses once they are spent', () => {
    const budget = createRetryBudget({ now: () => 0 });
    const granted = Array.from({ length: 12 }, () => budget.withdraw());
    expect(granted.filter(Boolean)).toHaveLength(10);
    expect(granted.slice(10)).toEqual([false, false]);
  });

  test('earns ratio tokens per call: five calls at 20% pay for one retry', () => {
    const budget = createRetryBudget({ now: () => 0, maxTokens: 1 });
    expect(budget.withdraw()).toBe(true);
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(budget.withdraw()).toBe(false);
    budget.deposit();
    expect(budget.withdraw()).toBe(true);
  });

  test.each<[number, number]>([
    // ms elapsed after spending everything, retries granted
    [0, 0],
    [99, 0],
    [100, 1],
    [550, 5],
    [1_000, 10],
    [60_000, 10],
  ])('after %i ms of time earns %i retries (10 per second, capped)', (elapsed, expected) => {
    let now = 0;
    const budget = createRetryBudget({ now: () => now });
    while (budget.withdraw()) {}
    now = elapsed;
    let granted = 0;
    while (budget.withdraw()) granted++;
    expect(granted).toBe(expected);
  });

  test('reads no clock per call, and earns the same as refilling at every call would', () => {
    let now = 0;
    let reads = 0;
    const budget = createRetryBudget({
      now: () => {
        reads++;
        return now;
      },
      maxTokens: 4,
    });
    while (budget.withdraw()) {}
    const before = reads;
    // 250 ms of time (2.5 tokens) and ten calls (2 tokens) come to 4.5, capped at 4.
    for (let i = 0; i < 10; i++) {
      now += 25;
      budget.deposit();
    }
    expect(reads).toBe(before);
    expect(budget.tokens).toBe(4);
    now += 50; // half a token more cannot pass the cap
    let granted = 0;
    while (budget.withdraw()) granted++;
    expect(granted).toBe(4);
  });

  test('never holds more than maxTokens', () => {
    const budget = createRetryBudget({ now: () => 0, maxTokens: 3 });
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(budget.tokens).toBe(3);
  });

  test('ignores a clock that goes backwards', () => {
    let now = 1_000;
    const budget = createRetryBudget({ now: () => now, maxTokens: 1 });
    budget.withdraw();
    now = 0;
    expect(budget.withdraw()).toBe(false);
    expect(budget.tokens).toBe(0);
  });

  test.each<[string, object]>([
    ['budget.ratio', { ratio: -1 }],
    ['budget.perSecond', { perSecond: Number.NaN }],
    ['budget.maxTokens', { maxTokens: 0.5 }],
    ['budget.now', { now: 5 }],
  ])('refuses a bad %s', (option, options) => {
    let error: unknown;
    try {
      createRetryBudget(options);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });
});
