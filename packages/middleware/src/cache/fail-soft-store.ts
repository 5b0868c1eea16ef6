// The store as cache() uses it: a failing store is a miss (or a skipped write), never an error, and
// one outage is reported once. Used by cache.ts and refresh.ts.
import { errorMessage } from '@extapi/core';
import type { CacheStoreOperation, ResolvedCacheOptions } from './options.js';
import type { CacheEntry, CacheStore } from './store.js';

/** A {@link CacheStore} whose failures are reported and swallowed; see {@link failSoftStore}. */
export interface FailSoftStore {
  /** The entry under `key`, or `undefined` (also when the store fails). */
  read(key: string): Promise<CacheEntry | undefined>;
  /** Stores `entry` under `key` for `ttlMs` ms; when the store fails, nothing is stored. */
  write(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  /** Removes the entry under `key`; when the store fails, the entry stays until it expires. */
  remove(key: string): Promise<void>;
}

/**
 * `store` as cache()'s calls use it: every failure goes to `onStoreError`, the first of an outage
 * also to `logger` (or a process warning), and the call goes on as a miss. A read or write that
 * succeeds ends the outage.
 * State: the outage flag, shared by every call through one cache() instance.
 * @example
 * const { read, write, remove } = failSoftStore(memoryStore(), resolveCacheOptions());
 */
export function failSoftStore(
  store: CacheStore,
  o: Pick<ResolvedCacheOptions, 'logger' | 'onStoreError'>,
): FailSoftStore {
  let failing = false;

  function storeFailed(error: unknown, operation: CacheStoreOperation): void {
    try {
      o.onStoreError?.(error, operation);
    } catch {
      // The hook's own failure must not fail the call either.
    }
    if (failing) return;
    failing = true;
    const message = `cache(): the store failed (${operation}: ${errorMessage(error)}); calls go on as misses`;
    if (o.logger) o.logger.warn({ operation }, message);
    else process.emitWarning(message, { type: 'ExtapiWarning', code: 'EXTAPI_CACHE_STORE' });
  }

  async function read(key: string): Promise<CacheEntry | undefined> {
    try {
      const entry = await store.get(key);
      failing = false;
      return entry;
    } catch (error) {
      storeFailed(error, 'get');
      return undefined;
    }
  }

  async function write(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    try {
      await store.set(key, entry, ttlMs);
      failing = false;
    } catch (error) {
      storeFailed(error, 'set');
    }
  }

  async function remove(key: string): Promise<void> {
    try {
      await store.delete(key);
    } catch (error) {
      storeFailed(error, 'delete');
    }
  }

  return { read, write, remove };
}
