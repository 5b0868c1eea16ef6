// The per-key queues of a shared limiter: each process queues its own calls per key and one pump
// per key asks the shared store for the head's turn. Nothing here is Redis-specific.
import { MAX_TIMER_MS, QueueFullError, type AbortLike } from '@extapi/core';
import { createWaitQueue, type WaitQueue } from './wait-queue.js';

/**
 * One turn of a key's pump for the call at the head of `queue`: ask Redis once, then grant the head,
 * fail the queue, or `sleep` before the next ask. Resolve `false` to stop the pump (the queue was
 * failed), `true` to take another turn while calls are queued.
 */
export type PumpTurn<T> = (
  key: string,
  queue: WaitQueue<T>,
  sleep: (ms: number) => Promise<void>,
) => Promise<boolean>;

/** The per-key queues of a Redis limiter; see {@link createKeyQueues}. */
export interface KeyQueues<T> {
  /** Queues a call on `key` and starts the key's pump unless it runs. */
  wait(key: string, signal: AbortLike): Promise<T>;
  /** Ends the sleep of `key`'s pump at once: a slot of this process came free. */
  wake(key: string): void;
  /** Ends every pump's sleep, so that pumps see a closed limiter at once. */
  wakeAll(): void;
  /** The calls queued over every key. */
  readonly waiting: number;
  /** The keys with queued calls or a running pump. */
  readonly keys: number;
}

interface KeyQueue<T> {
  queue: WaitQueue<T>;
  pumping: boolean;
  wake: (() => void) | undefined;
}

/**
 * The queues of a Redis limiter, one per key: each process queues its own calls and only the head
 * of a key asks Redis, through one pump per key that runs `turn` until the queue is empty and then
 * drops the key. A queue already holding more than `maxQueue` calls rejects with QueueFullError.
 * Shared by every call through the limiter instance that creates it.
 * @example
 * const queues = createKeyQueues<void>(async (key, queue, sleep) => {
 *   const wait = await askRedis(key);
 *   if (wait <= 0) queue.shift()?.grant();
 *   else await sleep(wait);
 *   return true;
 * });
 */
export function createKeyQueues<T>(
  turn: PumpTurn<T>,
  maxQueue = Number.POSITIVE_INFINITY,
): KeyQueues<T> {
  const byKey = new Map<string, KeyQueue<T>>();

  // A pump sleeps until its deadline or until woken (a release here, an abort of the head, close).
  function sleep(state: KeyQueue<T>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      // The turn after it asks Redis again, so a wait longer than a timer can hold is slept in steps.
      const timer = setTimeout(
        () => {
          state.wake = undefined;
          resolve();
        },
        Math.min(ms, MAX_TIMER_MS),
      );
      state.wake = () => {
        clearTimeout(timer);
        state.wake = undefined;
        resolve();
      };
    });
  }

  async function pump(key: string, state: KeyQueue<T>): Promise<void> {
    state.pumping = true;
    try {
      while (state.queue.size > 0) {
        if (!(await turn(key, state.queue, (ms) => sleep(state, ms)))) break;
      }
    } finally {
      state.pumping = false;
      if (state.queue.size === 0 && byKey.get(key) === state) byKey.delete(key);
    }
  }

  return {
    wait(key, signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      let state = byKey.get(key);
      if (state === undefined) {
        const created: KeyQueue<T> = {
          queue: createWaitQueue<T>(() => {
            if (created.queue.size === 0) created.wake?.();
          }),
          pumping: false,
          wake: undefined,
        };
        state = created;
        byKey.set(key, state);
      }
      if (state.queue.size > maxQueue) return Promise.reject(new QueueFullError(maxQueue));
      const turnOf = state.queue.wait(signal);
      if (!state.pumping) void pump(key, state);
      return turnOf;
    },
    wake(key) {
      byKey.get(key)?.wake?.();
    },
    wakeAll() {
      for (const state of byKey.values()) state.wake?.();
    },
    get waiting() {
      let waiting = 0;
      for (const state of byKey.values()) waiting += state.queue.size;
      return waiting;
    },
    get keys() {
      return byKey.size;
    },
  };
}
