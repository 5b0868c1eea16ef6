// The slot pool of concurrencyLimit shared through Redis, on redis-semaphore's expiring leases:
// a process that dies gives its slots back after leaseMs. Each process queues its own calls.
import type { ExtapiError } from '@extapi/core';
import type { Release, SlotPool } from './local-slots.js';
import type { OnRedisError } from './options.js';
import {
  exported,
  importPeer,
  isRedisUnavailable,
  type RedisClientLike,
  type RedisConnection,
} from '../redis/connection.js';
import { redisKey } from '../redis/key.js';
import { createKeyQueues } from './key-queues.js';
import { OUTAGE_RETRY_MS, type OutageWait } from './outage.js';
import type { WaitQueue } from './wait-queue.js';

// How often a process whose head found every slot taken asks again (a release in this process wakes
// it at once; one in another process is seen on the next ask).
const POLL_MS = 10;

interface Lease {
  readonly identifier: string;
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
}
type SemaphoreClass = new (
  client: RedisClientLike,
  key: string,
  limit: number,
  options: Record<string, unknown>,
) => Lease;

let semaphoreClass: Promise<SemaphoreClass> | undefined;

function loadSemaphore(): Promise<SemaphoreClass> {
  semaphoreClass ??= importPeer('redis-semaphore').then(
    (module) => exported<SemaphoreClass>(module as never, 'Semaphore'),
    (cause) => {
      semaphoreClass = undefined;
      throw new Error(
        'The redis option of concurrencyLimit needs redis-semaphore: npm install redis-semaphore',
        {
          cause,
        },
      );
    },
  );
  return semaphoreClass;
}

/** What {@link createRedisSlots} needs. */
export interface RedisSlotsInit {
  max: number;
  id: string;
  leaseMs: number;
  connection: RedisConnection;
  onRedisError: OnRedisError;
  /** Whether queued calls wait out a Redis that went away before `onRedisError` applies. */
  outage: OutageWait;
}

/**
 * Creates a slot pool shared by every process that uses the same `id` on the same Redis. Callers
 * take a slot of their process's own pool first (see concurrencyLimit), so this queue never holds
 * more than `max` calls per process and needs no bound of its own.
 * @example
 * const pool = createRedisSlots({ max: 4, id: 'partner', leaseMs: 30_000, connection, onRedisError: 'fail', outage });
 */
export function createRedisSlots(init: RedisSlotsInit): SlotPool {
  const { max, id, leaseMs, connection, onRedisError, outage } = init;
  let active = 0;

  /** One attempt at a lease; `undefined` when every slot is taken. */
  async function tryLease(key: string): Promise<Release | undefined> {
    const Semaphore = await loadSemaphore();
    const name = redisKey('concurrency', id, key);
    // Renewal is ours rather than redis-semaphore's: its timer throws an unhandled rejection when
    // Redis is down, and a lease lost to a FLUSHALL is better taken again than given up.
    const options = { lockTimeout: leaseMs, acquireAttemptsLimit: 1, refreshInterval: 0 };
    let semaphore: Lease | undefined;
    const acquired = await connection.run(
      (client) => {
        semaphore = new Semaphore(client, name, max, options);
        return semaphore.tryAcquire();
      },
      // Redis answered too late: a lease it granted after all must not be held until it expires.
      (late) => {
        late.then((ok) => (ok ? semaphore!.release() : undefined)).catch(() => {});
      },
    );
    if (!acquired || semaphore === undefined) return undefined;
    const identifier = semaphore.identifier;
    // redis-semaphore keeps its leases in the sorted set `semaphore:<key>`, one member per holder.
    const drop = (client: RedisClientLike) => client.zrem(`semaphore:${name}`, identifier);
    let released = false;

    async function renew(): Promise<void> {
      try {
        const renewed = await connection.run((client) =>
          new Semaphore(client, name, max, {
            ...options,
            identifier,
            acquiredExternally: true,
          }).tryAcquire(),
        );
        if (renewed || released) return;
        await connection.run((client) =>
          new Semaphore(client, name, max, { ...options, identifier }).tryAcquire(),
        );
        if (released) await connection.run(drop);
      } catch {
        // Redis is away: the lease runs out on its own if it stays away.
      }
    }

    active++;
    const renewal = setInterval(renew, Math.max(Math.floor(leaseMs / 3), 1));
    renewal.unref();
    return () => {
      if (released) return;
      released = true;
      active--;
      clearInterval(renewal);
      connection.run(drop).catch(() => {});
      queues.wake(key);
    };
  }

  function failAll(queue: WaitQueue<Release>, error: unknown): void {
    // In 'local' mode the caller already holds a slot of this process's own limit: that is all
    // it gets while Redis is away.
    const local = onRedisError === 'local' && isRedisUnavailable(error);
    for (let waiter = queue.shift(); waiter; waiter = queue.shift()) {
      if (local) waiter.grant(() => {});
      else waiter.fail(error as ExtapiError);
    }
  }

  const queues = createKeyQueues<Release>(async (key, queue, sleep) => {
    let release: Release | undefined;
    try {
      release = await tryLease(key);
    } catch (error) {
      if (outage.keepWaiting(key, error)) {
        await sleep(OUTAGE_RETRY_MS);
        return true;
      }
      failAll(queue, error);
      return false;
    }
    outage.ended(key);
    if (release === undefined) {
      await sleep(POLL_MS);
      return true;
    }
    // The head may have left while Redis answered: the slot then goes to the next in line.
    const waiter = queue.shift();
    if (waiter) waiter.grant(release);
    else release();
    return true;
  });

  return {
    acquire(key, signal) {
      return queues.wait(key, signal);
    },
    get active() {
      return active;
    },
    get waiting() {
      return queues.waiting;
    },
    get keys() {
      return queues.keys;
    },
  };
}
