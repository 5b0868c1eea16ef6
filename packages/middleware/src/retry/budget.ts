// The retry budget: a token bucket shared by every call through one retry() instance.
// Calls and time earn tokens, retries spend them, so a failing upstream never sees a retry storm.
import { type OptionSpec, option, readOptions } from '@extapi/core';

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
    deposit() {
      refill();
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
