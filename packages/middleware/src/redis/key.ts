// The naming of the Redis keys this package writes: one prefix, and a hash tag that keeps the keys of
// one limit in one Redis Cluster slot.

/**
 * The Redis key of one limiter: the `{id:key}` hash tag keeps every key of one limiter in one
 * Cluster slot, so its script runs atomically there too.
 * @example
 * redisKey('rate', 'partner', 'https://api.example'); // 'extapi:rate:{partner:https://api.example}'
 */
export function redisKey(kind: string, id: string, key: string): string {
  return `extapi:${kind}:{${id}:${key}}`;
}
