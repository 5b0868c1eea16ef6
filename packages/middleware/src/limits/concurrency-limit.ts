// concurrencyLimit(): at most `max` calls in flight inside it, per key, in this process or across
// processes through Redis. Place it before retry() to count calls, after it to count attempts.
import {
  defineMiddleware,
  type Context,
  type HttpResponse,
  type Middleware,
  type Next,
  type OptionSpec,
  option,
  readOptions,
  type AbortLike,
} from '@extapi/core';
import { createLocalSlots, type Release, type SlotPool } from './local-slots.js';
import {
  checkRedisId,
  DEFAULT_SHARED_LIMIT_OPTIONS,
  keyOf,
  type ResolvedSharedLimitOptions,
  required,
  SHARED_LIMIT_SPEC,
  type SharedLimitOptions,
} from './options.js';
import { createRedisConnection, type RedisConnection } from '../redis/connection.js';
import { createOutageWait } from './outage.js';
import { createRedisSlots } from './redis-slots.js';

/** Options of {@link concurrencyLimit}. */
export interface ConcurrencyLimitOptions extends SharedLimitOptions {
  /** How many calls may be in flight at once (per key). Required: an integer >= 1. */
  max: number;
  /**
   * Redis mode: how long a slot stays taken when its process stops renewing it (it renews every
   * third of this while the call runs), so a process that dies gives its slots back after this long.
   * At most 2,147,483,647 (the longest a timer can wait).
   * @default 30000
   */
  leaseMs?: number;
}

/** The defaults of {@link concurrencyLimit}. */
export const DEFAULT_CONCURRENCY_LIMIT_OPTIONS = Object.freeze({
  ...DEFAULT_SHARED_LIMIT_OPTIONS,
  /** @see ConcurrencyLimitOptions.leaseMs */
  leaseMs: 30_000,
});

/** {@link ConcurrencyLimitOptions} after validation. */
export interface ResolvedConcurrencyLimitOptions extends ResolvedSharedLimitOptions {
  /** How many calls may be in flight at once, per key. */
  max: number;
  /** Redis mode: how long an unrenewed slot stays taken, in ms. */
  leaseMs: number;
}

const CONCURRENCY_LIMIT_SPEC = {
  ...SHARED_LIMIT_SPEC,
  max: required<number>(option.integer({ min: 1 }), 'how many calls may be in flight at once'),
  leaseMs: option.ms({ min: 1, default: DEFAULT_CONCURRENCY_LIMIT_OPTIONS.leaseMs }),
} satisfies OptionSpec<ConcurrencyLimitOptions>;

/**
 * Validates {@link ConcurrencyLimitOptions} and fills in the defaults: own properties only, an
 * unknown key is refused with the nearest known one.
 * @throws ConfigError naming the option and the value
 * @example
 * resolveConcurrencyLimitOptions({ max: 4 }).leaseMs; // 30000
 */
export function resolveConcurrencyLimitOptions(
  options: ConcurrencyLimitOptions,
): ResolvedConcurrencyLimitOptions {
  const scope = 'concurrencyLimit()';
  return checkRedisId(scope, readOptions(scope, options, CONCURRENCY_LIMIT_SPEC));
}

/** A limit middleware; `close()` closes the Redis client it created from a URL. */
export type LimitMiddleware = Middleware & {
  /** Closes the Redis client the limiter created from a URL; a client passed in is left open. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
};

/**
 * Gives the slot back when the response is settled: at once for a buffered body, and for a streamed
 * one (`readBody: false`) when the body ends, fails, or is destroyed or discarded.
 */
function releaseWhenSettled(response: HttpResponse, release: Release): void {
  const body = response.body;
  if (body === null || body.destroyed || body.readableEnded) {
    release();
    return;
  }
  // 'close' follows 'end', 'error' and destroy() (which discard() uses) once autoDestroy runs.
  body.once('close', release);
  body.once('end', release);
  body.once('error', release);
}

/**
 * Lets at most `max` calls be in flight inside it at once, per `key` (default: one limit for all).
 * Calls beyond that wait in a FIFO queue; a waiting call whose `ctx.scope` aborts leaves the queue
 * at once (rejecting with the reason) and never runs; more than `maxQueue` waiting → `QueueFullError`.
 * A slot is given back when the response is settled — with `readBody: false`, only when its body
 * is read to the end, fails, or is discarded — and always on errors (a streamed body that is
 * never read nor discarded keeps its slot, as it keeps its connection).
 *
 * With `redis` the limit holds across every process that uses the same `id`, on expiring leases
 * (redis-semaphore): a process that dies gives its slots back within `leaseMs`. Lease times come
 * from each process's clock, so keep the machines' clocks in sync (NTP). Each process also keeps
 * `max` as its own limit, which is all that applies while Redis is away with `onRedisError:
 * 'local'`. FIFO holds within a process; between processes a freed slot goes to whichever asks
 * first (each process's head asks every 10 ms, and at once when a call of its own ends).
 *
 * Placement: before `retry()`, a call holds one slot through all its attempts and backoff sleeps
 * (use this to cap the work in progress of your own process); after `retry()`, each attempt takes
 * its own slot and gives it back before the backoff (use this to cap the requests the upstream
 * sees at once — usually what a partner's "max N concurrent requests" means). A `rateLimit` goes
 * inside it, so that a call waits for its slot before it takes a start.
 *
 * State: the slots (and the Redis client made from a URL) belong to the middleware instance and
 * are shared by every client and call that uses it.
 * @example
 * const client = createClient([
 *   retry(),
 *   concurrencyLimit({ max: 8, key: (ctx) => ctx.call.origin }),
 *   undiciTransport(),
 * ]);
 */
export function concurrencyLimit(options: ConcurrencyLimitOptions): LimitMiddleware {
  const resolved = resolveConcurrencyLimitOptions(options);
  const { key, max, maxQueue } = resolved;
  // Every call takes a slot of this process's own pool first, then, with Redis, a shared lease:
  // so one process never exceeds `max` even while Redis is away ('local') or just came back, and
  // `maxQueue` counts the calls waiting in this process exactly.
  const local = createLocalSlots(max, maxQueue);
  let connection: RedisConnection | undefined;
  let shared: SlotPool | undefined;
  if (resolved.redis !== undefined) {
    connection = createRedisConnection(resolved.redis, resolved.redisTimeoutMs);
    shared = createRedisSlots({
      max,
      id: resolved.id!,
      leaseMs: resolved.leaseMs,
      connection,
      onRedisError: resolved.onRedisError,
      outage: createOutageWait(resolved.onRedisError, resolved.redisOutageWaitMs),
    });
  }

  async function acquire(name: string, signal: AbortLike): Promise<Release> {
    const releaseLocal = await local.acquire(name, signal);
    if (shared === undefined) return releaseLocal;
    let releaseShared: Release;
    try {
      releaseShared = await shared.acquire(name, signal);
    } catch (error) {
      releaseLocal();
      throw error;
    }
    return () => {
      releaseShared();
      releaseLocal();
    };
  }

  function run(release: Release, next: Next): Promise<HttpResponse> {
    return next().then(
      (response) => {
        releaseWhenSettled(response, release);
        return response;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
  }

  async function queued(name: string, ctx: Context, next: Next): Promise<HttpResponse> {
    return run(await acquire(name, ctx.scope), next);
  }

  function concurrencyLimit(ctx: Context, next: Next): Promise<HttpResponse> {
    if (ctx.scope.aborted) return Promise.reject(ctx.scope.reason);
    const name = keyOf(key, ctx);
    // A free local slot and no Redis: no promise, no queue, no wait.
    const release = shared === undefined ? local.tryAcquire!(name) : undefined;
    return release !== undefined ? run(release, next) : queued(name, ctx, next);
  }

  const close = async () => {
    await connection?.close();
  };
  defineMiddleware(concurrencyLimit, { name: 'concurrencyLimit' });
  return Object.assign(concurrencyLimit, { close, [Symbol.asyncDispose]: close });
}
