// The Redis connection of the middleware that share state through Redis: ioredis loaded on demand,
// bounded commands, and one clear error when Redis is gone. Used only when a `redis` option is given.
import { ExtapiError } from '@extapi/core';

/**
 * The part of an ioredis client (or Cluster) the limits use. Pass your own `new Redis(...)`; for fast
 * failure while Redis is down, create it with `enableOfflineQueue: false` (a URL gets that).
 */
export interface RedisClientLike {
  /** ioredis connection state: `ready` when commands can run. */
  readonly status?: string;
  /** Runs a cached Lua script by its SHA1. */
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a Lua script (and caches it). */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Removes members from a sorted set. */
  zrem(key: string, ...members: string[]): Promise<unknown>;
  /** Connects a client created with `lazyConnect`. */
  connect?(): Promise<unknown>;
  /** Listens for one event (e.g. `ready`, `error`). */
  once?(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Removes a listener added with `once`. */
  removeListener?(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Closes the connection at once. */
  disconnect?(): void;
}

/** The code of the error a limiter rejects with when Redis fails and `onRedisError` is `'fail'`. */
export const REDIS_UNAVAILABLE = 'ERR_REDIS_UNAVAILABLE';

/** Whether `error` is the limiter's Redis failure (as opposed to, say, a missing ioredis). */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof ExtapiError && error.code === REDIS_UNAVAILABLE;
}

function unavailable(detail: string, cause?: unknown): ExtapiError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new ExtapiError(
    `Redis for the limiter is unavailable (${detail}${reason})`,
    REDIS_UNAVAILABLE,
    {
      cause,
    },
  );
}

/** A lazily opened Redis connection with bounded commands. */
export interface RedisConnection {
  /**
   * Runs `op` on the client: fails at once when a client that was connected is not any more, and
   * after `timeoutMs` when Redis does not answer. `onLate` gets the promise of an op that timed out
   * (to undo a lease it may still take). Every failure is an `ERR_REDIS_UNAVAILABLE` ExtapiError,
   * except a missing ioredis, which is reported as such.
   */
  run<T>(
    op: (client: RedisClientLike) => Promise<T>,
    onLate?: (late: Promise<T>) => void,
  ): Promise<T>;
  /** Closes the client when the limiter created it; a client passed in is left open. */
  close(): Promise<void>;
}

type Module = Record<string, unknown> & { default?: Record<string, unknown> };

/**
 * Imports an optional peer (ioredis, redis-semaphore) by a name bundlers cannot see, so they leave
 * it to the runtime: the middleware root (which exports the limits) then bundles for browsers and
 * workers without the peers and the Node builtins they need.
 * @example
 * const module = await importPeer('ioredis');
 */
export function importPeer(name: string): Promise<Module> {
  return import(name);
}

/** A module's named export from ESM or CommonJS interop, whichever the loader produced. */
export function exported<T>(module: Module, name: string): T {
  return (module[name] ?? module.default?.[name] ?? module.default) as T;
}

async function createClient(url: string, timeoutMs: number): Promise<RedisClientLike> {
  let module: Module;
  try {
    module = await importPeer('ioredis');
  } catch (cause) {
    throw new ExtapiError(
      'The redis option needs the optional peer dependency ioredis: npm install ioredis',
      'ERR_MISSING_PEER',
      { cause },
    );
  }
  const Redis = exported<new (url: string, options: object) => RedisClientLike>(module, 'Redis');
  const client = new Redis(url, {
    // Fail commands at once while disconnected instead of queueing them: a limiter must never hang.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    // Reconnect quickly and keep trying, so a restarted Redis is in use again within a second.
    retryStrategy: (times: number) => Math.min(times * 50, 500),
  });
  // Errors surface through the commands that fail; without a listener ioredis prints each one.
  (client as unknown as { on(event: string, fn: () => void): void }).on('error', () => {});
  return client;
}

/**
 * Opens (on first use) the connection a limiter was given.
 * @example
 * const redis = createRedisConnection('redis://127.0.0.1:6379', 2000);
 * await redis.run((client) => client.zrem('key', 'member'));
 */
export function createRedisConnection(
  option: string | RedisClientLike,
  timeoutMs: number,
): RedisConnection {
  const owned = typeof option === 'string';
  let opening: Promise<RedisClientLike> | undefined;
  let closed = false;
  // Until a client has been ready once, a command waits (bounded) for it to connect; after that,
  // a client that is not ready means Redis went away, and the command fails at once.
  let everReady = false;

  function open(): Promise<RedisClientLike> {
    opening ??= owned ? createClient(option, timeoutMs) : Promise.resolve(option);
    return opening;
  }

  function whenReady(client: RedisClientLike): Promise<void> | undefined {
    const status = client.status;
    if (status === undefined || status === 'ready') {
      everReady = true;
      return undefined;
    }
    if (status === 'end' || status === 'close' || closed) {
      throw unavailable(`connection ${closed ? 'closed' : status}`);
    }
    if (everReady) throw unavailable(`connection ${status}`);
    if (status === 'wait') client.connect?.().catch(() => {});
    return new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        everReady = true;
        resolve();
      };
      const timer = setTimeout(() => {
        client.removeListener?.('ready', onReady);
        reject(unavailable(`not connected after ${timeoutMs} ms`));
      }, timeoutMs);
      client.once?.('ready', onReady);
    });
  }

  async function run<T>(
    op: (client: RedisClientLike) => Promise<T>,
    onLate?: (late: Promise<T>) => void,
  ): Promise<T> {
    const client = await open();
    try {
      await whenReady(client);
    } catch (error) {
      throw error instanceof ExtapiError ? error : unavailable('not connected', error);
    }
    let timer: NodeJS.Timeout | undefined;
    const pending = Promise.resolve().then(() => op(client));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onLate?.(pending);
        reject(unavailable(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      if (error instanceof ExtapiError) throw error;
      throw unavailable('command failed', error);
    } finally {
      clearTimeout(timer);
      pending.catch(() => {});
    }
  }

  return {
    run,
    async close() {
      if (closed) return;
      closed = true;
      if (owned && opening) (await opening.catch(() => undefined))?.disconnect?.();
    },
  };
}
