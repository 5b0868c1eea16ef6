// The in-process slot pool of concurrencyLimit: one p-limit per key, created on demand and dropped
// when idle. A slot is held until the caller releases it, not until a function returns.
import { QueueFullError } from '@extapi/core';
import pLimit, { type LimitFunction } from 'p-limit';

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

/** Slots per key: `acquire` resolves with a {@link Release} once the call may run. */
export interface SlotPool {
  acquire(key: string, signal: AbortSignal): Promise<Release>;
  /** Calls running and calls waiting, over every key (for tests and introspection). */
  readonly active: number;
  readonly waiting: number;
  /** How many keys have state right now. */
  readonly keys: number;
}

interface KeySlots {
  limit: LimitFunction;
  active: number;
  waiting: number;
}

/**
 * Creates a pool of `max` slots per key.
 * @example
 * const pool = createLocalSlots(5, Infinity);
 * const release = await pool.acquire('', ctx.signal);
 * try { await work(); } finally { release(); }
 */
export function createLocalSlots(max: number, maxQueue: number): SlotPool {
  const byKey = new Map<string, KeySlots>();
  let active = 0;
  let waiting = 0;

  function dropIfIdle(key: string, slots: KeySlots): void {
    if (slots.active === 0 && slots.waiting === 0 && byKey.get(key) === slots) byKey.delete(key);
  }

  function acquire(key: string, signal: AbortSignal): Promise<Release> {
    if (signal.aborted) return Promise.reject(signal.reason);
    let slots = byKey.get(key);
    if (slots === undefined) {
      slots = { limit: pLimit(max), active: 0, waiting: 0 };
      byKey.set(key, slots);
    }
    const own = slots;
    // Calls admitted but not yet started by p-limit count as waiting; beyond `max` of them wait.
    if (own.active + own.waiting - max >= maxQueue) {
      return Promise.reject(new QueueFullError(maxQueue));
    }
    own.waiting++;
    waiting++;
    return new Promise<Release>((resolve, reject) => {
      let cancelled = false;
      const onAbort = () => {
        // p-limit cannot take an entry out of its queue: the entry stays as a tombstone that
        // returns at once when its turn comes, while the caller is rejected now.
        cancelled = true;
        own.waiting--;
        waiting--;
        reject(signal.reason);
        dropIfIdle(key, own);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      own
        .limit(() => {
          if (cancelled) return undefined;
          signal.removeEventListener('abort', onAbort);
          own.waiting--;
          waiting--;
          own.active++;
          active++;
          return new Promise<void>((done) => {
            let released = false;
            resolve(() => {
              if (released) return;
              released = true;
              own.active--;
              active--;
              done();
              dropIfIdle(key, own);
            });
          });
        })
        .catch(() => {});
    });
  }

  return {
    acquire,
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
