// cache()'s options: what they mean, their defaults and their checks (read once when cache() is
// called, never per request).
import {
  ConfigError,
  type Context,
  type Logger,
  type OptionSpec,
  option,
  readOptions,
  REDACTED,
} from '@extapi/core';
import type { RedisClientLike } from '../redis/connection.js';
import { redisOption } from '../redis/options.js';
import { type CacheStore, storeOption } from './store.js';

/** What a cache store operation was doing when it failed, as {@link CacheOptions.onStoreError} gets it. */
export type CacheStoreOperation = 'get' | 'set' | 'delete';

/** Options of `cache()`. Every field is optional; an explicit `undefined` means the default. */
export interface CacheOptions {
  /**
   * Where entries live: `memoryStore()` (this process, bounded in bytes) or `redisStore()` (the
   * fleet), or your own {@link CacheStore}. Not together with `redis`.
   * @default memoryStore() (64 MiB)
   */
  store?: CacheStore;
  /**
   * Shorthand for `store: redisStore({ redis, id, redisTimeoutMs })`: an ioredis client (or Cluster,
   * left open) or a `redis://` URL (ioredis is then loaded on first use and closed by `close()`).
   * @default none: the memory store
   */
  redis?: string | RedisClientLike;
  /** With `redis`: the name of the shared cache (part of every key). @default 'default' */
  id?: string;
  /** With `redis`: how long one Redis command may take before it counts as a store failure (a miss), in ms: it bounds what a Redis that is down costs a call. @default 500 */
  redisTimeoutMs?: number;
  /**
   * The cache key of a call, or `undefined` to bypass the cache for it. Without it only GET and
   * HEAD are cached, by URL; with it any method the HTTP rules allow (a POST only with explicit
   * freshness), and responses to requests that carry `Authorization` are stored too: the key must
   * then include the credential's identity (a user or tenant id, never the raw token).
   * @default the request's URL, for GET and HEAD
   */
  key?: (ctx: Context) => string | undefined;
  /** The largest body stored, in bytes; larger responses are passed on and not stored. @default 1_048_576 */
  maxEntryBytes?: number;
  /**
   * Heuristic freshness (RFC 9111 §4.2.2) for responses without explicit freshness but with
   * `Last-Modified`: this fraction of the time since the last modification. 0 turns it off.
   * @default 0
   */
  heuristic?: number;
  /**
   * How long an entry that has a validator (`ETag` / `Last-Modified`) is kept once stale, in ms, so
   * that it can be revalidated with a conditional request (a 304 costs no body).
   * @default 3_600_000 (1 hour)
   */
  keepStaleMs?: number;
  /** The deadline of a `stale-while-revalidate` refresh in the background, in ms. @default 30_000 */
  refreshTimeoutMs?: number;
  /** Receives the one warning per store outage (a failing store is a miss, never an error). @default process.emitWarning */
  logger?: Pick<Logger, 'warn'>;
  /** Called on every store failure (after which the call goes on as a miss); errors it throws are ignored. @default none */
  onStoreError?: (error: unknown, operation: CacheStoreOperation) => void;
  /** The wall clock in ms since the epoch, for freshness (inject one in tests). @default Date.now */
  now?: () => number;
}

/** The defaults of `cache()`. */
export const DEFAULT_CACHE_OPTIONS = Object.freeze({
  /** @see CacheOptions.store */
  store: undefined as CacheStore | undefined,
  /** @see CacheOptions.redis */
  redis: undefined as string | RedisClientLike | undefined,
  /** @see CacheOptions.id */
  id: 'default',
  /** @see CacheOptions.redisTimeoutMs */
  redisTimeoutMs: 500,
  /** @see CacheOptions.key */
  key: undefined as ((ctx: Context) => string | undefined) | undefined,
  /** @see CacheOptions.maxEntryBytes */
  maxEntryBytes: 1_048_576,
  /** @see CacheOptions.heuristic */
  heuristic: 0,
  /** @see CacheOptions.keepStaleMs */
  keepStaleMs: 3_600_000,
  /** @see CacheOptions.refreshTimeoutMs */
  refreshTimeoutMs: 30_000,
  /** @see CacheOptions.logger */
  logger: undefined as Pick<Logger, 'warn'> | undefined,
  /** @see CacheOptions.onStoreError */
  onStoreError: undefined as ((error: unknown, operation: CacheStoreOperation) => void) | undefined,
  /** @see CacheOptions.now */
  now: Date.now as () => number,
});

const d = DEFAULT_CACHE_OPTIONS;

const SPEC = {
  store: storeOption,
  redis: redisOption,
  id: option.string(d.id),
  redisTimeoutMs: option.ms({ min: 1, default: d.redisTimeoutMs }),
  key: option.fn<(ctx: Context) => string | undefined>(),
  maxEntryBytes: option.integer({ min: 0, default: d.maxEntryBytes }),
  heuristic: option.number({ max: 1, default: d.heuristic }),
  keepStaleMs: option.ms({ default: d.keepStaleMs }),
  refreshTimeoutMs: option.ms({ min: 1, default: d.refreshTimeoutMs }),
  logger: option.logger<Pick<Logger, 'warn'>>(['warn']),
  onStoreError: option.fn<(error: unknown, operation: CacheStoreOperation) => void>(),
  now: option.fn<() => number, () => number>(d.now),
} satisfies OptionSpec<CacheOptions>;

type Optional = 'store' | 'redis' | 'key' | 'logger' | 'onStoreError';

/** {@link CacheOptions} after validation: every default filled in. */
export type ResolvedCacheOptions = Required<Omit<CacheOptions, Optional>> &
  Pick<CacheOptions, Optional>;

/**
 * Validates {@link CacheOptions} (own properties only; an unknown one is refused with the nearest
 * known name) and fills in the defaults.
 * @throws ConfigError naming the option and the value
 * @example
 * resolveCacheOptions({ maxEntryBytes: 65_536 }).heuristic; // 0
 */
export function resolveCacheOptions(options: CacheOptions = {}): ResolvedCacheOptions {
  const resolved = readOptions('cache()', options, SPEC);
  if (resolved.store !== undefined && resolved.redis !== undefined) {
    throw new ConfigError('redis', REDACTED, 'give either store or redis, not both');
  }
  return resolved;
}
