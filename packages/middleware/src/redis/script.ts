// Lua scripts run by their SHA1, sent in full only when Redis lost them (a restart, SCRIPT FLUSH).
// Used by the Redis modes of the limits.
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
  let sha: string | undefined;
  return async (client, keys, args) => {
    // Web Crypto (no node:crypto, so the middleware root bundles for browsers), once per script.
    sha ??= await sha1Hex(lua);
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message ?? error).includes('NOSCRIPT')) throw error;
      return client.eval(lua, keys.length, ...keys, ...args);
    }
  };
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
