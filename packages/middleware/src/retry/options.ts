// The options of retry(): the public type, its defaults, and the one function that validates them.
// Everything here runs once, when retry() is called, never per request.
import {
  ConfigError,
  type Context,
  type HttpResponse,
  type Logger,
  sleep as abortableSleep,
} from '@extapi/core';
import type { BackoffOptions } from './backoff.js';
import { createRetryBudget, type RetryBudget, type RetryBudgetOptions } from './budget.js';

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
  methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'] as readonly string[],
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

// setTimeout fires at once for anything above 2^31 − 1 ms, so no wait may be longer.
const MAX_TIMER_MS = 2_147_483_647;

function ms(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new ConfigError(option, value, `expected a number of ms from 0 to ${MAX_TIMER_MS}`);
  }
  return value;
}

function fn<T>(option: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw new ConfigError(option, value, 'expected a function');
  return value as T;
}

function isBudget(value: object): value is RetryBudget {
  const budget = value as Partial<RetryBudget>;
  return typeof budget.deposit === 'function' && typeof budget.withdraw === 'function';
}

function resolveBudget(value: RetryOptions['budget']): RetryBudget | undefined {
  if (value === undefined || value === true) return createRetryBudget();
  if (value === false) return undefined;
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError('budget', value, 'expected a boolean, budget options or a RetryBudget');
  }
  return isBudget(value) ? value : createRetryBudget(value);
}

/** Validates {@link RetryOptions} once and fills in the defaults; throws `ConfigError` naming the option. */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'expected an object');
  }
  const d = DEFAULT_RETRY_OPTIONS;
  const maxAttempts = options.maxAttempts ?? d.maxAttempts;
  if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ConfigError('maxAttempts', maxAttempts, 'expected an integer >= 1 (total tries)');
  }

  const statusCodes = options.statusCodes ?? d.statusCodes;
  if (!Array.isArray(statusCodes)) {
    throw new ConfigError('statusCodes', statusCodes, 'expected an array of HTTP statuses');
  }
  for (const status of statusCodes) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new ConfigError('statusCodes', status, 'expected HTTP statuses from 100 to 599');
    }
  }

  const methodsInput = options.methods ?? d.methods;
  let methods: ReadonlySet<string> | 'all';
  if (methodsInput === 'all') methods = 'all';
  else if (
    Array.isArray(methodsInput) &&
    methodsInput.every((m) => typeof m === 'string' && m !== '')
  ) {
    methods = new Set(methodsInput.map((m) => m.toUpperCase()));
  } else {
    throw new ConfigError('methods', methodsInput, "expected an array of method names or 'all'");
  }

  const backoffInput = options.backoff ?? {};
  if (typeof backoffInput !== 'object' || backoffInput === null) {
    throw new ConfigError('backoff', backoffInput, 'expected { baseMs, maxMs }');
  }
  const baseMs = ms('backoff.baseMs', backoffInput.baseMs, d.backoff.baseMs);
  const maxMs = ms('backoff.maxMs', backoffInput.maxMs, Math.max(baseMs, d.backoff.maxMs));
  if (maxMs < baseMs)
    throw new ConfigError('backoff.maxMs', maxMs, `expected >= backoff.baseMs (${baseMs})`);

  const retryOnInput = options.retryOn ?? [];
  const retryOn = typeof retryOnInput === 'function' ? [retryOnInput] : retryOnInput;
  if (!Array.isArray(retryOn) || retryOn.some((p) => typeof p !== 'function')) {
    throw new ConfigError(
      'retryOn',
      retryOnInput,
      'expected a policy function or an array of them',
    );
  }

  const idempotencyKey = options.idempotencyKey ?? d.idempotencyKey;
  if (typeof idempotencyKey !== 'boolean') {
    throw new ConfigError('idempotencyKey', idempotencyKey, 'expected a boolean');
  }
  const logger = options.logger;
  if (logger !== undefined && (typeof logger !== 'object' || typeof logger?.warn !== 'function')) {
    throw new ConfigError('logger', logger, 'expected a pino-style logger with warn()');
  }

  return {
    maxAttempts,
    statusCodes: new Set(statusCodes),
    methods,
    backoff: { baseMs, maxMs },
    maxRetryAfterMs: ms('maxRetryAfterMs', options.maxRetryAfterMs, d.maxRetryAfterMs),
    retryOn: [...retryOn],
    budget: resolveBudget(options.budget),
    idempotencyKey,
    onRetry: fn('onRetry', options.onRetry, undefined),
    logger,
    random: fn('random', options.random, Math.random),
    sleep: fn('sleep', options.sleep, abortableSleep),
    now: fn('now', options.now, Date.now),
  };
}
