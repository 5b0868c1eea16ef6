// The retry budget: a token bucket shared by every call through one retry() instance.
// Calls and time earn tokens, retries spend them, so a failing upstream never sees a retry storm.
import { ConfigError, type OptionCheck, type OptionSpec, option, readOptions } from '@extapi/core';

/** Options of {@link createRetryBudget}. */
export interface RetryBudgetOptions {
  /** Tokens each call earns: retries may add at most this share of calls. @default 0.2 */
  ratio?: number;
  /** Tokens earned per second whatever the traffic, so a quiet client can still retry. @default 10 */
  perSecond?: number;
  /** The most tokens the bucket holds, i.e. the largest burst of retries. @default perSecond, at least 1 */
  maxTokens?: number;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
}

/** A token bucket for retries. Share one between `retry()` instances to give them one budget. */
export interface RetryBudget {
  /** Records a call (the first attempt): earns `ratio` tokens. */
  deposit(): void;
  /** Takes a token for one retry; `false` when the budget is spent (then do not retry). */
  withdraw(): boolean;
  /** The tokens available now. */
  readonly tokens: number;
}

/** The defaults of {@link RetryBudgetOptions}. */
export const DEFAULT_RETRY_BUDGET_OPTIONS = {
  /** @see RetryBudgetOptions.ratio */
  ratio: 0.2,
  /** @see RetryBudgetOptions.perSecond */
  perSecond: 10,
};

const SPEC = {
  ratio: option.number({ default: DEFAULT_RETRY_BUDGET_OPTIONS.ratio }),
  perSecond: option.number({ default: DEFAULT_RETRY_BUDGET_OPTIONS.perSecond }),
  maxTokens: option.number({ min: 1 }),
  now: option.fn<() => number, () => number>(() => performance.now()),
} satisfies OptionSpec<RetryBudgetOptions>;

/**
 * A retry budget: retries are allowed for at most `ratio` of calls plus `perSecond` per second
 * (Finagle's RetryBudget, gRPC's retry throttling). It starts full.
 * @example
 * const budget = createRetryBudget({ ratio: 0.1 });
 * const stack = [retry({ budget }), retry({ budget, statusCodes: [409] })];
 */
export function createRetryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const read = readOptions('createRetryBudget()', options, SPEC, 'budget.');
  const { ratio, perSecond, now } = read;
  const maxTokens = read.maxTokens ?? Math.max(1, perSecond);
  let tokens = maxTokens;
  let last = now();

  function refill(): void {
    const at = now();
    if (at > last) tokens = Math.min(maxTokens, tokens + ((at - last) / 1000) * perSecond);
    last = at;
  }

  return {
    // No clock read per call: between two withdrawals only capped additions happen, and
    // min(max, min(max, t + a) + b) = min(max, t + a + b) for a, b ≥ 0, so the time's share can
    // wait for the next withdrawal (or read of `tokens`), which refills from the last one.
    deposit() {
      tokens = Math.min(maxTokens, tokens + ratio);
    },
    withdraw() {
      refill();
      // A small epsilon: five deposits of 0.2 must add up to one retry despite binary fractions.
      if (tokens < 1 - 1e-9) return false;
      tokens = Math.max(0, tokens - 1);
      return true;
    },
    get tokens() {
      refill();
      return tokens;
    },
  };
}

// A budget someone built: its own deposit/withdraw, or a class instance's (never Object.prototype's).
function isBudget(value: object): value is RetryBudget {
  const budget = value as Partial<RetryBudget>;
  const proto = Object.getPrototypeOf(value);
  return (
    typeof budget.deposit === 'function' &&
    typeof budget.withdraw === 'function' &&
    (Object.hasOwn(value, 'deposit') || (proto !== Object.prototype && proto !== null))
  );
}

/**
 * The options-kit check of a `budget` option (retry(), hedge()): `true` or absent for a new bucket
 * with `defaults`, options for a bucket with those (over `defaults`), a {@link RetryBudget} to
 * share one, `false` for none.
 * @example
 * const SPEC = { budget: budgetOption({ ratio: 0.1 }) };
 */
export function budgetOption(
  defaults: RetryBudgetOptions = {},
): OptionCheck<RetryBudget | undefined> {
  return (value, name) => {
    if (value === undefined || value === true) return createRetryBudget(defaults);
    if (value === false) return undefined;
    if (typeof value !== 'object' || value === null) {
      throw new ConfigError(name, value, 'expected a boolean, budget options or a RetryBudget');
    }
    if (isBudget(value)) return value;
    // An explicit `undefined` means the caller's default (`defaults`), not the bucket's own.
    const merged: Record<string, unknown> = { ...defaults };
    for (const [key, item] of Object.entries(value)) if (item !== undefined) merged[key] = item;
    return createRetryBudget(merged as RetryBudgetOptions);
  };
}
