// The Redis cache store: one key per entry (hash-tagged like every key of this package), holding
// the entry's metadata as JSON and its body as raw bytes, with Redis's own expiry as the TTL.
import { type OptionSpec, option, readOptions } from '@extapi/core';
import { createRedisConnection, type RedisClientLike } from '../redis/connection.js';
import { redisKey } from '../redis/key.js';
import { redisOption } from '../redis/options.js';
import type { CacheEntry, CacheStore } from './store.js';

/** The ioredis commands the Redis store uses, beyond what the limits need. */
interface CacheRedisClient extends RedisClientLike {
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer, mode: 'PX', ms: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** An ioredis client or Cluster (left open), or a `redis://` URL (ioredis loaded on first use). Required. */
  redis: string | RedisClientLike;
  /** The name of the cache: processes with the same `id` share entries. @default 'default' */
  id?: string;
  /** How long one command may take before it counts as a failure (a miss), in ms. @default 500 */
  redisTimeoutMs?: number;
}

const SPEC = {
  redis: (value: unknown, name: string) => {
    const checked = redisOption(value, name);
    if (checked === undefined) return redisOption(null, name)!; // throws: the option is required
    return checked;
  },
  id: option.string('default'),
  redisTimeoutMs: option.ms({ min: 1, default: 500 }),
} satisfies OptionSpec<RedisStoreOptions>;

/** Four bytes of metadata length, the metadata as UTF-8 JSON, then the body. */
export function encodeEntry(entry: CacheEntry): Buffer {
  const meta = Buffer.from(
    JSON.stringify({ p: entry.policy, s: entry.status, t: entry.statusText, u: entry.url }),
  );
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(meta.length, 0);
  return Buffer.concat([head, meta, entry.body]);
}

/** The inverse of {@link encodeEntry}; `undefined` for bytes that are not an entry. */
export function decodeEntry(bytes: Buffer): CacheEntry | undefined {
  if (bytes.length < 4) return undefined;
  const length = bytes.readUInt32BE(0);
  if (4 + length > bytes.length) return undefined;
  const meta = JSON.parse(bytes.toString('utf8', 4, 4 + length)) as {
    p: object;
    s: number;
    t: string;
    u: string;
  };
  return {
    policy: meta.p,
    status: meta.s,
    statusText: meta.t,
    url: meta.u,
    body: new Uint8Array(bytes.buffer, bytes.byteOffset + 4 + length, bytes.length - 4 - length),
  };
}

/**
 * A cache store in Redis, shared by every process using the same `id`: each entry is one key
 * (`extapi:cache:{id:key}`, hash-tagged so it works on a Redis Cluster) that Redis expires itself.
 * ioredis is loaded only when a URL is given; every command is bounded by `redisTimeoutMs`, and
 * `cache()` turns any failure into a miss.
 * @example
 * const client = createClient([
 *   cache({ store: redisStore({ redis: 'redis://127.0.0.1:6379', id: 'partner-api' }) }),
 *   retry(),
 *   undiciTransport(),
 * ]);
 */
export function redisStore(options: RedisStoreOptions): CacheStore {
  const { redis, id, redisTimeoutMs } = readOptions('redisStore()', options, SPEC);
  const connection = createRedisConnection(redis, redisTimeoutMs);
  const keyOf = (key: string) => redisKey('cache', id, key);
  return {
    async get(key) {
      const bytes = await connection.run((client) =>
        (client as CacheRedisClient).getBuffer(keyOf(key)),
      );
      return bytes === null ? undefined : decodeEntry(bytes);
    },
    async set(key, entry, ttlMs) {
      const ms = Math.ceil(ttlMs);
      if (ms <= 0) return;
      await connection.run((client) =>
        (client as CacheRedisClient).set(keyOf(key), encodeEntry(entry), 'PX', ms),
      );
    },
    async delete(key) {
      await connection.run((client) => (client as CacheRedisClient).del(keyOf(key)));
    },
    close: () => connection.close(),
  };
}
