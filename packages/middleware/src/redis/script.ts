// Lua scripts run by their SHA1, sent in full only when Redis lost them (a restart, SCRIPT FLUSH).
// Used by the Redis modes of the limits.
import { createHash } from 'node:crypto';
import type { RedisClientLike } from './connection.js';

/** A Lua script run with EVALSHA, falling back to EVAL when Redis lost it (restart, SCRIPT FLUSH). */
export type RedisScript = (
  client: RedisClientLike,
  keys: string[],
  args: (string | number)[],
) => Promise<unknown>;

/**
 * Defines a script. It is sent in full only when Redis answers NOSCRIPT, so it survives a restart or a
 * `SCRIPT FLUSH` without state of its own (and without adding commands to the user's client).
 * @example
 * const ping = defineScript("return redis.call('PING')");
 * await ping(client, [], []);
 */
export function defineScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (client, keys, args) => {
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message ?? error).includes('NOSCRIPT')) throw error;
      return client.eval(lua, keys.length, ...keys, ...args);
    }
  };
}
