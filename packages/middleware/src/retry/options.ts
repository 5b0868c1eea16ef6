// The options of retry(): the public type, its defaults, and the one function that validates them.
// Everything here runs once, when retry() is called, never per request.
import {
  ConfigError,
  type Context,
  type HttpResponse,
  type Logger,
  type OptionCheck,
  type OptionSpec,
  option,
  readOptions,
  sleep as abortableSleep,
} from '@extapi/core';
import type { BackoffOptions } from './backoff.js';
import { budgetOption, type RetryBudget, type RetryBudgetOptions } from './budget.js';
import { IDEMPOTENT_METHODS } from './idempotency.js';

/** What one attempt ended in, as a {@link RetryPolicy} sees it: a response or an error. */
export type RetryOutcome =
  | {
      /** The 1-based attempt that ended. */
      attempt: number;
      /** The response the attempt answered with. */
      response: HttpResponse;
      /** Absent when the attempt answered. */
      error?: undefined;
    }
  | {
      /** The 1-based attempt that ended. */
      attempt: number;
      /** The error the attempt failed with. */
      error: unknown;
      /** Absent when the attempt failed. */
      response?: undefined;
    };

/**
 * A retry policy, the successor of the `Retryable` protocol: `true` retries (after the server's
 * delay or the backoff), a number retries after that many ms, `false` does not retry, and
 * `undefined` defers to the next policy and finally to the defaults. A policy decides whether,
 * not how often: `maxAttempts`, the budget and unreplayable bodies still stop retries.
 */
export type RetryPolicy = (outcome: RetryOutcome, ctx: Context) => boolean | number | undefined;

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  /** The attempt that failed (1-based); retry #`attempt` follows it. */
  attempt: number;
  /** Total tries allowed, including the first; see {@link RetryOptions.maxAttempts}. */
  maxAttempts: number;
  /** How long retry() waits before the next attempt. */
  delayMs: number;
  /** Why: `status 503`, an error code such as `ECONNRESET` or `ERR_TIMEOUT`, or `retryOn`. */
  reason: string;
  /** The retried response (its body already discarded), when the attempt answered. */
  response?: HttpResponse;
  /** The error of the attempt, when it failed. */
  error?: unknown;
  /** The context of the failed attempt. */
  ctx: Context;
}

/** Options of `retry()`. Every field is optional; `undefined` means the default. */
export interface RetryOptions {
  /** Total tries including the first (the old `max_retries=3`). An integer >= 1. @default 3 */
  maxAttempts?: number;
  /** Response statuses that are retried. @default [408, 429, 500, 502, 503, 504] */
  statusCodes?: readonly number[];
  /**
   * Methods whose network errors, timeouts and 5xx (other than 503) are retried; 429 and 503 are
   * retried for any method, as is a request with an `Idempotency-Key`. `'all'` retries every method.
   * @default ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']
   */
  methods?: readonly string[] | 'all';
  /** Exponential backoff with full jitter when the server names no delay. @default { baseMs: 200, maxMs: 20000 } */
  backoff?: BackoffOptions;
  /** A server delay (`Retry-After`, `RateLimit-Reset`) above this is not waited out: the response is returned. @default 60000 */
  maxRetryAfterMs?: number;
  /** Extra policies, asked in order before the defaults. @default [] */
  retryOn?: RetryPolicy | readonly RetryPolicy[];
  /**
   * The retry budget: `true` for a token bucket of this instance (20% of calls plus 10 per second),
   * options for another bucket, a {@link RetryBudget} to share one between instances, `false` for none.
   * @default true
   */
  budget?: boolean | RetryBudgetOptions | RetryBudget;
  /** Give POST and PATCH calls an `Idempotency-Key` (a random UUID, unless set), making them retryable. @default false */
  idempotencyKey?: boolean;
  /** Called before each wait. */
  onRetry?: (info: RetryInfo) => void;
  /** Gets one `warn` line per retry ("retry #1/2 of GET https://…", URL redacted). */
  logger?: Pick<Logger, 'warn'>;
  /** The random source of the jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** How to wait; must reject with `signal.reason` when `signal` aborts. @default core's sleep */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The wall clock in ms, for `Retry-After` dates and epoch resets. @default Date.now */
  now?: () => number;
}

/** The defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY_OPTIONS = {
  /** @see RetryOptions.maxAttempts */
  maxAttempts: 3,
  /** @see RetryOptions.statusCodes */
  statusCodes: [408, 429, 500, 502, 503, 504] as readonly number[],
  /** @see RetryOptions.methods */
  methods: IDEMPOTENT_METHODS,
  /** @see RetryOptions.backoff */
  backoff: {
    /** @see BackoffOptions.baseMs */
    baseMs: 200,
    /** @see BackoffOptions.maxMs */
    maxMs: 20_000,
  },
  /** @see RetryOptions.maxRetryAfterMs */
  maxRetryAfterMs: 60_000,
  /** @see RetryOptions.budget */
  budget: true,
  /** @see RetryOptions.idempotencyKey */
  idempotencyKey: false,
} as const;

/** {@link RetryOptions} validated and filled in. */
export interface ResolvedRetryOptions {
  /** Total tries including the first. */
  maxAttempts: number;
  /** Response statuses that are retried. */
  statusCodes: ReadonlySet<number>;
  /** Upper-cased methods whose failures are retried, or `'all'`. */
  methods: ReadonlySet<string> | 'all';
  /** The backoff bounds, both filled in. */
  backoff: Required<BackoffOptions>;
  /** The longest server-named delay that is waited out, in ms. */
  maxRetryAfterMs: number;
  /** Extra policies, asked in order before the defaults. */
  retryOn: readonly RetryPolicy[];
  /** The retry budget, or `undefined` for none. */
  budget: RetryBudget | undefined;
  /** Whether POST and PATCH calls get an `Idempotency-Key`. */
  idempotencyKey: boolean;
  /** Called before each wait, if given. */
  onRetry: ((info: RetryInfo) => void) | undefined;
  /** Gets one `warn` line per retry, if given. */
  logger: Pick<Logger, 'warn'> | undefined;
  /** The random source of the jitter, in [0, 1). */
  random: () => number;
  /** How to wait between attempts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The wall clock in ms. */
  now: () => number;
}

const d = DEFAULT_RETRY_OPTIONS;

const BACKOFF_SPEC = {
  baseMs: option.ms({ default: d.backoff.baseMs }),
  // Its default depends on baseMs: filled in by resolveRetryOptions.
  maxMs: option.ms(),
} satisfies OptionSpec<BackoffOptions>;

const methodsCheck: OptionCheck<ReadonlySet<string> | 'all'> = (value, name) => {
  if (value === undefined) return new Set(d.methods);
  if (value === 'all') return 'all';
  if (!Array.isArray(value) || !value.every((m) => typeof m === 'string' && m !== '')) {
    throw new ConfigError(name, value, "expected an array of method names or 'all'");
  }
  return new Set(value.map((m: string) => m.toUpperCase()));
};

const retryOnCheck: OptionCheck<readonly RetryPolicy[]> = (value, name) => {
  if (value === undefined) return [];
  const policies = typeof value === 'function' ? [value] : value;
  if (!Array.isArray(policies) || policies.some((p) => typeof p !== 'function')) {
    throw new ConfigError(name, value, 'expected a policy function or an array of them');
  }
  return [...policies];
};

const RETRY_SPEC = {
  maxAttempts: option.integer({ min: 1, default: d.maxAttempts }),
  // An item is never absent (array() passes a hole as null), hence no default.
  statusCodes: option.array(option.integer<never>({ min: 100, max: 599 }), d.statusCodes),
  methods: methodsCheck,
  backoff: option.object(BACKOFF_SPEC, 'retry() backoff'),
  maxRetryAfterMs: option.ms({ default: d.maxRetryAfterMs }),
  retryOn: retryOnCheck,
  budget: budgetOption(),
  idempotencyKey: option.boolean(d.idempotencyKey),
  onRetry: option.fn<(info: RetryInfo) => void>(),
  logger: option.logger<Pick<Logger, 'warn'>>(['warn']),
  random: option.fn<() => number, () => number>(Math.random),
  sleep: option.fn<(ms: number, signal: AbortSignal) => Promise<void>, typeof abortableSleep>(
    abortableSleep,
  ),
  now: option.fn<() => number, () => number>(Date.now),
} satisfies OptionSpec<RetryOptions>;

/**
 * Validates {@link RetryOptions} once and fills in the defaults; throws `ConfigError` naming the
 * option (an unknown one with the nearest known name). Reads own properties only.
 * @example
 * resolveRetryOptions({ maxAttempts: 5 }).backoff; // { baseMs: 200, maxMs: 20000 }
 */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const read = readOptions('retry()', options, RETRY_SPEC);
  const { baseMs } = read.backoff;
  const maxMs = read.backoff.maxMs ?? Math.max(baseMs, d.backoff.maxMs);
  if (maxMs < baseMs) {
    throw new ConfigError('backoff.maxMs', maxMs, `expected >= backoff.baseMs (${baseMs})`);
  }
  return { ...read, statusCodes: new Set(read.statusCodes), backoff: { baseMs, maxMs } };
}
