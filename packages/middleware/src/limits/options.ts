// Option checks shared by concurrencyLimit and rateLimit: counts, keys, the queue and the Redis mode.
// Each check throws ConfigError naming the option and the value, at factory time.
import { ConfigError, type Context } from '@extapi/core';
import type { RedisClientLike } from './redis.js';

/** Picks the limiter a call belongs to, e.g. `(ctx) => ctx.request.url.origin` for one limit per host. */
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
  /** How long one Redis command may take before it counts as a Redis failure, in ms. @default 2000 */
  redisTimeoutMs?: number;
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
});

/** {@link SharedLimitOptions} after validation. */
export interface ResolvedSharedLimitOptions {
  /** Picks the limiter a call belongs to; `undefined` for one shared limit. */
  key: LimitKey | undefined;
  /** How many calls may wait in this process. */
  maxQueue: number;
  /** The ioredis client or `redis://` URL that shares the limit, or `undefined` for none. */
  redis: string | RedisClientLike | undefined;
  /** The name of the shared limit in Redis. */
  id: string | undefined;
  /** What to do when Redis fails. */
  onRedisError: OnRedisError;
  /** How long one Redis command may take, in ms. */
  redisTimeoutMs: number;
}

/** An own property of `options`, where `undefined` means "not given". */
export function own<T extends object, K extends keyof T>(options: T, name: K): T[K] | undefined {
  return Object.hasOwn(options, name) ? options[name] : undefined;
}

/** An integer of at least `min` (Infinity too when `infinite`), else ConfigError naming `option`. */
export function checkInteger(
  option: string,
  value: unknown,
  min: number,
  infinite = false,
): number {
  const ok =
    typeof value === 'number' &&
    (Number.isSafeInteger(value) || (infinite && value === Number.POSITIVE_INFINITY)) &&
    value >= min;
  if (!ok) {
    const expected = `expected an integer >= ${min}${infinite ? ' or Infinity' : ''}`;
    throw new ConfigError(option, value, expected);
  }
  return value as number;
}

/**
 * Validates the options both limits share and fills in the defaults.
 * @throws ConfigError naming the option and the value
 * @example
 * resolveSharedLimitOptions('rateLimit', { maxQueue: 100 }).maxQueue; // 100
 */
export function resolveSharedLimitOptions(
  name: string,
  options: SharedLimitOptions,
): ResolvedSharedLimitOptions {
  const d = DEFAULT_SHARED_LIMIT_OPTIONS;
  const key = own(options, 'key') ?? d.key;
  if (key !== undefined && typeof key !== 'function') {
    throw new ConfigError('key', key, 'expected a function (ctx) => string');
  }
  const maxQueue = checkInteger('maxQueue', own(options, 'maxQueue') ?? d.maxQueue, 0, true);
  const redis = own(options, 'redis') ?? d.redis;
  if (redis !== undefined) {
    const isClient =
      typeof redis === 'object' &&
      redis !== null &&
      typeof (redis as RedisClientLike).evalsha === 'function';
    const isUrl = typeof redis === 'string' && /^rediss?:\/\//i.test(redis);
    if (!isUrl && !isClient) {
      throw new ConfigError('redis', redis, 'expected an ioredis client or a redis:// URL');
    }
  }
  const id = own(options, 'id') ?? d.id;
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    throw new ConfigError('id', id, 'expected a non-empty string');
  }
  if (redis !== undefined && id === undefined) {
    throw new ConfigError('id', id, `${name} with redis needs an id naming the shared limit`);
  }
  const onRedisError = own(options, 'onRedisError') ?? d.onRedisError;
  if (onRedisError !== 'fail' && onRedisError !== 'local') {
    throw new ConfigError('onRedisError', onRedisError, "expected 'fail' or 'local'");
  }
  const redisTimeoutMs = checkInteger(
    'redisTimeoutMs',
    own(options, 'redisTimeoutMs') ?? d.redisTimeoutMs,
    1,
  );
  return { key, maxQueue, redis, id, onRedisError, redisTimeoutMs };
}

/** The key of a call: the user's function, or one shared key. */
export function keyOf(key: LimitKey | undefined, ctx: Context): string {
  return key === undefined ? '' : String(key(ctx));
}
