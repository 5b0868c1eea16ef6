// rateLimit(): at most `limit` requests reach the server in any sliding window of `windowMs`, per
// key, in this process or across processes through Redis. Below retry() and inside concurrencyLimit.
import {
  defineMiddleware,
  type Context,
  type HttpResponse,
  isHttpStatusError,
  type Next,
  type OptionSpec,
  option,
  readOptions,
} from '@extapi/core';
import type { LimitMiddleware } from './concurrency-limit.js';
import { createLocalWindow, type StartGate } from './local-window.js';
import {
  checkRedisId,
  DEFAULT_SHARED_LIMIT_OPTIONS,
  keyOf,
  type ResolvedSharedLimitOptions,
  required,
  SHARED_LIMIT_SPEC,
  type SharedLimitOptions,
} from './options.js';
import { createRedisConnection, type RedisConnection } from '../redis/connection.js';
import { createOutageWait } from './outage.js';
import { createRedisWindow } from './redis-window.js';
import { serverPauseMs } from './server-limits.js';

// What the stack check reads (lintStack): the partner counts requests, so rateLimit must see every
// attempt (`outside-retry` otherwise) and sit inside concurrencyLimit (`order` otherwise).
const RATE_LIMIT_PLACEMENT = {
  name: 'rateLimit',
  placement: {
    per: 'attempt' as const,
    inside: ['concurrencyLimit'],
    reason:
      "the partner counts every request that reaches it: above retry() a call's retries take no start (up to limit × attempts reach it), above concurrencyLimit a granted start may wait for a slot and arrive later than it was counted",
  },
};

/** Options of {@link rateLimit}. */
export interface RateLimitOptions extends SharedLimitOptions {
  /** How many calls may start in any window of `windowMs` (per key). Required: an integer >= 1. */
  limit: number;
  /** The length of the sliding window, in ms. Required: an integer >= 1. */
  windowMs: number;
  /**
   * Pause the key when a server says so: a 429 or 503 with `Retry-After`, or a `RateLimit` /
   * `RateLimit-Remaining` / `X-RateLimit-Remaining` of 0 with a reset time, holds every further
   * start of that key until then (in Redis mode, in every process).
   * @default true
   */
  respectServerLimits?: boolean;
  /** The longest pause a server can impose this way, in ms. @default 60000 */
  maxPauseMs?: number;
  /**
   * How much the delay between the limiter's grant and the request's arrival at the server may
   * vary, in ms (connection setup, event-loop lag, Redis's reply, the network). The limiter counts
   * starts in a window of `windowMs + deliveryJitterMs`, so that however those delays spread within
   * this margin, the server never sees more than `limit` arrivals in any `windowMs`. The cost: the
   * steady rate is `limit` per `windowMs + deliveryJitterMs` (97.6 % of `limit` per second with the
   * default). 0 holds the limit only where the limiter grants. Raise it where delays spread wider:
   * processes starved of CPU (bench/README.md: 8 processes on 2 cores spread them over 65 ms, and
   * the server then saw 103 in a window of a limit of 100), or a slow network to the partner.
   * @default 25
   */
  deliveryJitterMs?: number;
}

/** The defaults of {@link rateLimit}. */
export const DEFAULT_RATE_LIMIT_OPTIONS = Object.freeze({
  ...DEFAULT_SHARED_LIMIT_OPTIONS,
  /** @see RateLimitOptions.respectServerLimits */
  respectServerLimits: true,
  /** @see RateLimitOptions.maxPauseMs */
  maxPauseMs: 60_000,
  /** @see RateLimitOptions.deliveryJitterMs */
  deliveryJitterMs: 25,
});

/** {@link RateLimitOptions} after validation. */
export interface ResolvedRateLimitOptions extends ResolvedSharedLimitOptions {
  /** How many calls may start in any window, per key. */
  limit: number;
  /** The length of the sliding window, in ms. */
  windowMs: number;
  /** Whether a server's 429/503 or `RateLimit` headers pause the key. */
  respectServerLimits: boolean;
  /** The longest pause a server can impose, in ms. */
  maxPauseMs: number;
  /** The margin for the spread of delays between grant and arrival, in ms. */
  deliveryJitterMs: number;
}

const RATE_LIMIT_SPEC = {
  ...SHARED_LIMIT_SPEC,
  limit: required<number>(option.integer({ min: 1 }), 'how many calls may start in a window'),
  // Not option.ms: a window may be longer than a timer can wait (a monthly quota); the gates wait
  // in steps of at most MAX_TIMER_MS and look again.
  windowMs: required<number>(option.integer({ min: 1 }), 'the length of the window in ms'),
  respectServerLimits: option.boolean(DEFAULT_RATE_LIMIT_OPTIONS.respectServerLimits),
  maxPauseMs: option.integer({ min: 0, default: DEFAULT_RATE_LIMIT_OPTIONS.maxPauseMs }),
  deliveryJitterMs: option.ms({ min: 0, default: DEFAULT_RATE_LIMIT_OPTIONS.deliveryJitterMs }),
} satisfies OptionSpec<RateLimitOptions>;

/**
 * Validates {@link RateLimitOptions} and fills in the defaults: own properties only, an unknown
 * key is refused with the nearest known one.
 * @throws ConfigError naming the option and the value
 * @example
 * resolveRateLimitOptions({ limit: 10, windowMs: 1000 }).maxPauseMs; // 60000
 */
export function resolveRateLimitOptions(options: RateLimitOptions): ResolvedRateLimitOptions {
  const scope = 'rateLimit()';
  return checkRedisId(scope, readOptions(scope, options, RATE_LIMIT_SPEC));
}

/**
 * Lets at most `limit` calls reach the server in any sliding window of `windowMs`, per `key`
 * (default: one limit for all). The limiter grants at most `limit` starts in any window of
 * `windowMs + deliveryJitterMs`, so while the delays from grant to arrival differ by no more than
 * `deliveryJitterMs` (25 ms by default), the server never counts more than `limit` in a window; the
 * steady rate is `limit` per `windowMs + deliveryJitterMs`. Starts are also spread over the window
 * (one every `(windowMs + deliveryJitterMs) / limit`, give or take a timer's lateness) rather than
 * sent in bursts. Waiting calls queue in FIFO
 * order, leave at once when their `ctx.scope` aborts, and beyond `maxQueue` reject with
 * `QueueFullError`. Unlike {@link concurrencyLimit} nothing is held once a call has started.
 *
 * With `redis` the limit holds across every process that uses the same `id` (and the same
 * options): one atomic script per key on Redis's own clock, so machines' clocks do not matter.
 * A server's pause (see `respectServerLimits`) is shared the same way.
 *
 * Placement: for a partner's quota, below `retry()` (every attempt the partner sees takes its own
 * start; above it, a call's retries take none and the partner sees up to `limit` × attempts) and
 * inside `concurrencyLimit` (a call granted a start must not then wait for a slot, or it reaches
 * the partner later than its start was counted). Above `retry()` it is a budget of calls (a job's
 * own pace). `createClient` warns about both placements (`lintStack`'s `outside-retry` and
 * `order` rules, from the placement `rateLimit` declares).
 *
 * State: the window per key (and the Redis client made from a URL) belongs to the middleware
 * instance and is shared by every client and call that uses it; idle keys are dropped.
 * @example
 * const client = createClient([
 *   retry(),
 *   rateLimit({ limit: 10, windowMs: 1000, key: (ctx) => ctx.call.origin }),
 *   undiciTransport(),
 * ]);
 */
export function rateLimit(options: RateLimitOptions): LimitMiddleware {
  const resolved = resolveRateLimitOptions(options);
  const { key, maxQueue, respectServerLimits, maxPauseMs } = resolved;
  // The partner counts arrivals, not grants: grants are counted in a window longer by the spread
  // their delays to the server may have, so no `windowMs` at the server can hold more than `limit`.
  const rule = { limit: resolved.limit, windowMs: resolved.windowMs + resolved.deliveryJitterMs };
  const local = createLocalWindow(rule, maxQueue);
  let connection: RedisConnection | undefined;
  let gate: StartGate = local;
  if (resolved.redis !== undefined) {
    connection = createRedisConnection(resolved.redis, resolved.redisTimeoutMs);
    gate = createRedisWindow({
      rule,
      id: resolved.id!,
      maxQueue,
      connection,
      onRedisError: resolved.onRedisError,
      fallback: local,
      outage: createOutageWait(resolved.onRedisError, resolved.redisOutageWaitMs),
    });
  }

  function observe(name: string, response: HttpResponse): void {
    const ms = serverPauseMs(response);
    if (ms !== undefined && ms > 0) gate.pause(name, Math.min(ms, maxPauseMs));
  }

  /** What a pass does with its outcome: look for a server's pause, for the key `name`. */
  interface Observers {
    name: string;
    onResponse(response: HttpResponse): HttpResponse;
    onError(error: unknown): never;
  }

  function observers(name: string): Observers {
    return {
      name,
      onResponse(response) {
        observe(name, response);
        return response;
      },
      onError(error) {
        if (isHttpStatusError(error)) observe(name, error.response);
        throw error;
      },
    };
  }

  // The last key's observers, reused while the key stays the same (always, without `key`): two
  // closures fewer per call.
  let last = observers('');

  function pass(name: string, next: Next): Promise<HttpResponse> {
    if (!respectServerLimits) return next();
    if (last.name !== name) last = observers(name);
    return next().then(last.onResponse, last.onError);
  }

  // Not async: a start that is free now (the usual case) costs no promise of its own.
  function rateLimit(ctx: Context, next: Next): Promise<HttpResponse> {
    const name = keyOf(key, ctx);
    if (!ctx.scope.aborted && gate.tryAcquire?.(name)) return pass(name, next);
    return gate.acquire(name, ctx.scope).then(() => pass(name, next));
  }

  const close = async () => {
    gate.close();
    await connection?.close();
  };
  defineMiddleware(rateLimit, RATE_LIMIT_PLACEMENT);
  return Object.assign(rateLimit, { close, [Symbol.asyncDispose]: close });
}
