// The in-process slot pool of concurrencyLimit: `max` slots per key, created on demand and dropped
// when idle. A slot is held until the caller releases it, not until a function returns.
//
// Not p-limit, although the design named it: it cannot take an aborted call out of its queue (the
// entry stays as a tombstone), and it spends about six promises and several microtask turns on
// every call even when a slot is free, which alone cost ~15% of the benchmark's throughput. A
// counter with a fast path and the shared abortable FIFO (wait-queue.ts) does both jobs exactly.
import { QueueFullError, type AbortLike } from '@extapi/core';
import { createWaitQueue, type WaitQueue } from './wait-queue.js';

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

/** Slots per key: `acquire` resolves with a {@link Release} once the call may run. */
export interface SlotPool {
  acquire(key: string, signal: AbortLike): Promise<Release>;
  /** A slot now, when one is free and nobody waits ahead; else `undefined` (then call `acquire`). */
  tryAcquire?(key: string): Release | undefined;
  /** Calls running and calls waiting, over every key (for tests and introspection). */
  readonly active: number;
  readonly waiting: number;
  /** How many keys have state right now. */
  readonly keys: number;
}

interface KeySlots {
  active: number;
  /** Made when a call of this key first has to wait (most keys never queue). */
  queue: WaitQueue<Release> | undefined;
}

/**
 * Creates a pool of `max` slots per key; past `maxQueue` waiting calls, `acquire` rejects with
 * `QueueFullError`. Waiting calls are served first in, first out, and leave at once on abort.
 * @example
 * const pool = createLocalSlots(5, Infinity);
 * const release = await pool.acquire('', ctx.scope);
 * try { await work(); } finally { release(); }
 */
export function createLocalSlots(max: number, maxQueue: number): SlotPool {
  const byKey = new Map<string, KeySlots>();
  let active = 0;
  let waiting = 0;

  const queued = (slots: KeySlots) => slots.queue?.size ?? 0;

  function dropIfIdle(key: string, slots: KeySlots): void {
    if (slots.active === 0 && queued(slots) === 0 && byKey.get(key) === slots) byKey.delete(key);
  }

  function take(key: string, slots: KeySlots): Release {
    slots.active++;
    active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      slots.active--;
      active--;
      const waiter = slots.queue?.shift();
      if (waiter === undefined) {
        dropIfIdle(key, slots);
        return;
      }
      waiting--;
      waiter.grant(take(key, slots));
    };
  }

  function tryAcquire(key: string): Release | undefined {
    const slots = byKey.get(key);
    if (slots === undefined) return take(key, createSlots(key));
    return slots.active < max && queued(slots) === 0 ? take(key, slots) : undefined;
  }

  function createSlots(key: string): KeySlots {
    const created: KeySlots = { active: 0, queue: undefined };
    byKey.set(key, created);
    return created;
  }

  function queueOf(key: string, slots: KeySlots): WaitQueue<Release> {
    // A waiter that aborts leaves the queue by itself; only the counts need mending.
    slots.queue ??= createWaitQueue<Release>(() => {
      waiting--;
      dropIfIdle(key, slots);
    });
    return slots.queue;
  }

  function acquire(key: string, signal: AbortLike): Promise<Release> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const slots = byKey.get(key) ?? createSlots(key);
    // The fast path: a free slot and nobody ahead, so no promise chain and no queue.
    if (slots.active < max && queued(slots) === 0) return Promise.resolve(take(key, slots));
    if (queued(slots) >= maxQueue) return Promise.reject(new QueueFullError(maxQueue));
    waiting++;
    return queueOf(key, slots).wait(signal);
  }

  return {
    acquire,
    tryAcquire,
    get active() {
      return active;
    },
    get waiting() {
      return waiting;
    },
    get keys() {
      return byKey.size;
    },
  };
}
