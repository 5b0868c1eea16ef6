// @extapi/middleware/limits: concurrencyLimit and rateLimit, in one process or shared through Redis.
// ioredis and redis-semaphore load only when a limiter is given `redis`.
export {
  concurrencyLimit,
  type ConcurrencyLimitOptions,
  DEFAULT_CONCURRENCY_LIMIT_OPTIONS,
  type LimitMiddleware,
  resolveConcurrencyLimitOptions,
  type ResolvedConcurrencyLimitOptions,
} from './concurrency-limit.js';
export {
  DEFAULT_RATE_LIMIT_OPTIONS,
  rateLimit,
  type RateLimitOptions,
  resolveRateLimitOptions,
  type ResolvedRateLimitOptions,
} from './rate-limit.js';
export type { LimitKey, OnRedisError, SharedLimitOptions } from './options.js';
export { REDIS_UNAVAILABLE, type RedisClientLike } from '../redis/connection.js';
export { serverPauseMs } from './server-limits.js';
