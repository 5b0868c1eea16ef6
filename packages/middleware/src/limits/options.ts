// The options both limits share (the key, the queue and the Redis mode) as a spec of core's options
// kit, read once when concurrencyLimit() or rateLimit() is called, never per request.
import {
  ConfigError,
  type Context,
  type OptionCheck,
  type OptionSpec,
  option,
  type ResolvedOptions,
} from '@extapi/core';
import type { RedisClientLike } from '../redis/connection.js';
import { redisOption } from '../redis/options.js';

/**
 * Picks the limiter a call belongs to, e.g. `(ctx) => ctx.call.origin` for one limit per host (the
 * origin the call was made for: no URL is parsed for it).
 */
export type LimitKey = (ctx: Context) => string;

/** What to do when Redis fails: reject the call (`'fail'`) or fall back to this process's own limit. */
export type OnRedisError = 'fail' | 'local';

/** Options that both limits share. Every field is optional; an explicit `undefined` means the default. */
export interface SharedLimitOptions {
  /**
   * Which limiter a call belongs to. Each distinct key gets its own limit, created on first use and
   * dropped once idle, so unbounded keys (origins, tenants) do not leak memory.
   * @default one limit shared by every call through this middleware
   */
  key?: LimitKey;
  /**
   * How many calls may wait in this process; the next one rejects with `QueueFullError` at once.
   * (For rateLimit in Redis mode, the call at the head of the queue, asking Redis for its turn, is
   * not counted.)
   * @default Infinity
   */
  maxQueue?: number;
  /**
   * Share the limit across processes: an ioredis client (left open), or a `redis://` URL (the
   * limiter creates a client for it, loaded with a dynamic import, and closes it on `close()`).
   * @default none: the limit holds within this process only
   */
  redis?: string | RedisClientLike;
  /**
   * The name of the shared limit: every process using the same `id` (and the same options) shares
   * one limit per key. Required with `redis`, so that two different limits never share by accident.
   */
  id?: string;
  /**
   * When Redis fails (down, restarting, too slow): `'fail'` rejects the call with an `ExtapiError`
   * of code `ERR_REDIS_UNAVAILABLE`; `'local'` applies the same limit within this process only.
   * Never waits forever and never lets calls through unlimited.
   * @default 'fail'
   */
  onRedisError?: OnRedisError;
  /**
   * How long one Redis command may take before it counts as a Redis failure, in ms (at most
   * 2,147,483,647, the longest a timer can wait).
   * @default 2000
   */
  redisTimeoutMs?: number;
  /**
   * With `onRedisError: 'fail'`: how long waiting calls keep asking a Redis that went away (a
   * restart, a Cluster failover promoting a replica) before they fail, in ms. A call whose own
   * deadline comes sooner leaves at its deadline, as always. 0 fails them at the first error.
   * (With `'local'`, calls fall back to the local limit at once: they keep going.)
   * @default 5000
   */
  redisOutageWaitMs?: number;
}

/** The defaults of {@link SharedLimitOptions}. */
export const DEFAULT_SHARED_LIMIT_OPTIONS = Object.freeze({
  /** @see SharedLimitOptions.key */
  key: undefined as LimitKey | undefined,
  /** @see SharedLimitOptions.maxQueue */
  maxQueue: Number.POSITIVE_INFINITY,
  /** @see SharedLimitOptions.redis */
  redis: undefined as string | RedisClientLike | undefined,
  /** @see SharedLimitOptions.id */
  id: undefined as string | undefined,
  /** @see SharedLimitOptions.onRedisError */
  onRedisError: 'fail' as OnRedisError,
  /** @see SharedLimitOptions.redisTimeoutMs */
  redisTimeoutMs: 2000,
  /** @see SharedLimitOptions.redisOutageWaitMs */
  redisOutageWaitMs: 5000,
});

/** A required option: `check` must not fall back to `undefined`. */
export function required<T>(check: OptionCheck<T | undefined>, expected: string): OptionCheck<T> {
  return (value, name) => {
    const checked = check(value, name);
    if (checked === undefined) throw new ConfigError(name, undefined, `required: ${expected}`);
    return checked;
  };
}

/** The checks of {@link SharedLimitOptions}, spread into each limit's own spec. */
export const SHARED_LIMIT_SPEC = {
  /** @see SharedLimitOptions.key */
  key: option.fn<LimitKey>(),
  /** @see SharedLimitOptions.maxQueue */
  maxQueue: option.integer({
    min: 0,
    infinity: true,
    default: DEFAULT_SHARED_LIMIT_OPTIONS.maxQueue,
  }),
  /** @see SharedLimitOptions.redis */
  redis: redisOption,
  /** @see SharedLimitOptions.id */
  id: option.string<undefined>(),
  /** @see SharedLimitOptions.onRedisError */
  onRedisError: option.oneOf(['fail', 'local'], DEFAULT_SHARED_LIMIT_OPTIONS.onRedisError),
  /** @see SharedLimitOptions.redisTimeoutMs */
  redisTimeoutMs: option.ms({ min: 1, default: DEFAULT_SHARED_LIMIT_OPTIONS.redisTimeoutMs }),
  /** @see SharedLimitOptions.redisOutageWaitMs */
  redisOutageWaitMs: option.ms({ default: DEFAULT_SHARED_LIMIT_OPTIONS.redisOutageWaitMs }),
} satisfies OptionSpec<SharedLimitOptions>;

/** {@link SharedLimitOptions} after validation. */
export type ResolvedSharedLimitOptions = ResolvedOptions<typeof SHARED_LIMIT_SPEC>;

/**
 * Refuses `redis` without an `id`: two different limits must never share one by accident.
 * @example
 * checkRedisId('rateLimit()', readOptions('rateLimit()', options, RATE_LIMIT_SPEC));
 */
export function checkRedisId<T extends ResolvedSharedLimitOptions>(scope: string, resolved: T): T {
  if (resolved.redis !== undefined && resolved.id === undefined) {
    throw new ConfigError(
      'id',
      undefined,
      `${scope} with redis needs an id naming the shared limit`,
    );
  }
  return resolved;
}

/** The key of a call: the user's function, or one shared key. */
export function keyOf(key: LimitKey | undefined, ctx: Context): string {
  return key === undefined ? '' : String(key(ctx));
}
