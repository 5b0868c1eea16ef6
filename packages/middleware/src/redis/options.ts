// The `redis` option of the middleware that share state through Redis (the limits, the fleet
// circuit): an ioredis client or Cluster, or a redis:// URL, checked by core's options kit.
import { ConfigError, REDACTED } from '@extapi/core';
import type { RedisClientLike } from './connection.js';

/**
 * Checks a `redis` option: an ioredis client (or Cluster), a `redis://` / `rediss://` URL, or
 * `undefined`. A URL may hold a password, so a refused string is never quoted.
 * @example
 * const SPEC = { redis: redisOption };
 */
export function redisOption(value: unknown, name: string): string | RedisClientLike | undefined {
  if (value === undefined) return undefined;
  const isClient =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RedisClientLike).evalsha === 'function';
  if (typeof value === 'string' && /^rediss?:\/\//i.test(value)) return value;
  if (isClient) return value as RedisClientLike;
  throw new ConfigError(
    name,
    typeof value === 'string' ? REDACTED : value,
    'expected an ioredis client or a redis:// URL',
  );
}
