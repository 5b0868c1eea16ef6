// The one small interface every cache store implements, and the in-memory store: an LRU bounded
// in bytes. The Redis store is redis-store.ts.
import { ConfigError, type OptionSpec, option, readOptions } from '@extapi/core';

/**
 * One stored response, as a store keeps it. The response headers live in `policy` (the
 * `http-cache-semantics` policy's `toObject()`, JSON-serialisable), which rebuilds them with an
 * up-to-date `Age` on every use.
 */
export interface CacheEntry {
  /** `CachePolicy.toObject()` of the stored response (request and response headers it needs, times). */
  policy: object;
  /** The response's status. */
  status: number;
  /** The response's reason phrase. */
  statusText: string;
  /** The response's final URL (after redirects). */
  url: string;
  /** The body bytes; a store may share them, the middleware copies them for each caller. */
  body: Uint8Array;
}

/**
 * Where `cache()` keeps its entries. Each method may fail: `cache()` treats a failure as a miss
 * (or a skipped write) and reports it, so a broken store never fails a call.
 */
export interface CacheStore {
  /** The entry under `key`, or `undefined`. */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores `entry` under `key` for `ttlMs` ms (after which the store may drop it). */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  /** Removes the entry under `key`. */
  delete(key: string): Promise<void>;
  /** Releases what the store opened (a Redis connection it created). */
  close?(): Promise<void>;
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** The most bytes the store holds (bodies and headers, estimated); the least recently used go first. @default 67_108_864 (64 MiB) */
  maxBytes?: number;
  /** The clock for entries' time to live, in ms. @default Date.now */
  now?: () => number;
}

/** The defaults of {@link memoryStore}. */
export const DEFAULT_MEMORY_STORE_OPTIONS = Object.freeze({
  /** @see MemoryStoreOptions.maxBytes */
  maxBytes: 67_108_864,
  /** @see MemoryStoreOptions.now */
  now: Date.now as () => number,
});

const MEMORY_SPEC = {
  maxBytes: option.integer({ min: 1, default: DEFAULT_MEMORY_STORE_OPTIONS.maxBytes }),
  now: option.fn<() => number, () => number>(DEFAULT_MEMORY_STORE_OPTIONS.now),
} satisfies OptionSpec<MemoryStoreOptions>;

interface Slot {
  entry: CacheEntry;
  bytes: number;
  expires: number;
  /** The insertion count when it was last put at the recent end. */
  order: number;
}

/** What an entry costs in memory, roughly: its body plus its policy as JSON (headers dominate). */
function entryBytes(entry: CacheEntry): number {
  return entry.body.byteLength + JSON.stringify(entry.policy).length + entry.url.length + 64;
}

/** A {@link CacheStore} in memory with its size in bytes, for tests and health checks. */
export interface MemoryStore extends CacheStore {
  /** The estimated bytes held now. */
  readonly bytes: number;
  /** How many entries are held now. */
  readonly size: number;
}

/**
 * A cache store in this process's memory: a least-recently-used map bounded by `maxBytes` (an
 * entry larger than that is not kept), entries dropped once their time to live has passed. A Map
 * keeps insertion order, so moving an entry to the end on use is the whole LRU; an entry already
 * among the most recent half is left in place (a delete and a set per hit cost a tenth of a hit).
 * @example
 * const client = createClient([cache({ store: memoryStore({ maxBytes: 8 * 1024 * 1024 }) }), retry(), undiciTransport()]);
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const { maxBytes, now } = readOptions('memoryStore()', options, MEMORY_SPEC);
  const slots = new Map<string, Slot>();
  let bytes = 0;
  let inserted = 0;

  function remove(key: string, slot: Slot): void {
    slots.delete(key);
    bytes -= slot.bytes;
  }

  return {
    get(key) {
      const slot = slots.get(key);
      if (slot === undefined) return Promise.resolve(undefined);
      if (slot.expires <= now()) {
        remove(key, slot);
        return Promise.resolve(undefined);
      }
      // Already the newest, or among the most recent half: left in place.
      const age = inserted - slot.order;
      if (age > 0 && age >= slots.size >> 1) {
        slots.delete(key);
        slot.order = ++inserted;
        slots.set(key, slot);
      }
      return Promise.resolve(slot.entry);
    },
    set(key, entry, ttlMs) {
      const old = slots.get(key);
      if (old !== undefined) remove(key, old);
      const size = entryBytes(entry);
      if (size > maxBytes || ttlMs <= 0) return Promise.resolve();
      for (const [oldest, slot] of slots) {
        if (bytes + size <= maxBytes) break;
        remove(oldest, slot);
      }
      slots.set(key, { entry, bytes: size, expires: now() + ttlMs, order: ++inserted });
      bytes += size;
      return Promise.resolve();
    },
    delete(key) {
      const slot = slots.get(key);
      if (slot !== undefined) remove(key, slot);
      return Promise.resolve();
    },
    get bytes() {
      return bytes;
    },
    get size() {
      return slots.size;
    },
  };
}

/** Checks a `store` option: an object with get, set and delete. */
export function storeOption(value: unknown, name: string): CacheStore | undefined {
  if (value === undefined) return undefined;
  const store = value as Partial<CacheStore> | null;
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    throw new ConfigError(name, value, 'expected a cache store with get, set and delete');
  }
  return store as CacheStore;
}
