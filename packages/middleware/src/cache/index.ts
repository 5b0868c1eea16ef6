// @extapi/middleware/cache: cache() with its stores. Its own subpath (not the package root), since
// it needs the optional peer dependency http-cache-semantics (and ioredis for the Redis store).
export { cache, type CacheMiddleware } from './cache.js';
export { CACHE_STATUS_HEADER, type CacheStatus } from './respond.js';
export {
  type CacheOptions,
  type CacheStoreOperation,
  DEFAULT_CACHE_OPTIONS,
  resolveCacheOptions,
  type ResolvedCacheOptions,
} from './options.js';
export {
  type CacheEntry,
  type CacheStore,
  DEFAULT_MEMORY_STORE_OPTIONS,
  type MemoryStore,
  type MemoryStoreOptions,
  memoryStore,
} from './store.js';
export { redisStore, type RedisStoreOptions } from './redis-store.js';
export type { RedisClientLike } from '../redis/connection.js';
