// A FIFO of calls waiting for a limiter, each of which leaves at once when its signal aborts.
// Shared by the rate limiters and both slot pools (local and Redis).
import type { AbortLike } from '@extapi/core';

/** One waiting call: settle it with `grant` or `fail`; `signal` is the call's own. */
export interface Waiter<T> {
  readonly signal: AbortLike;
  grant(value: T): void;
  fail(error: unknown): void;
}

/** An abortable FIFO: `wait()` enqueues, `shift()` takes the head, an abort removes a waiter at once. */
export interface WaitQueue<T> {
  readonly size: number;
  /** Enqueues a call; the promise settles when the call is granted or fails, or at once on abort. */
  wait(signal: AbortLike): Promise<T>;
  /** The waiter at the head, still queued. */
  peek(): Waiter<T> | undefined;
  /** Removes the head and detaches its abort listener; the caller then grants or fails it. */
  shift(): Waiter<T> | undefined;
}

/**
 * Creates a {@link WaitQueue}. `onLeave` runs after an abort removed a waiter (so an owner can wake a
 * pump that was waiting on the head's behalf, or drop an idle key).
 * @example
 * const queue = createWaitQueue<void>();
 * const turn = queue.wait(ctx.scope);
 * queue.shift()?.grant();
 */
export function createWaitQueue<T>(onLeave?: () => void): WaitQueue<T> {
  // A Set keeps insertion order and deletes in O(1), so an abort in the middle of a long queue is cheap.
  const waiters = new Set<Waiter<T> & { detach(): void }>();
  return {
    get size() {
      return waiters.size;
    },
    wait(signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => {
          waiters.delete(waiter);
          reject(signal.reason);
          onLeave?.();
        };
        const waiter = {
          signal,
          grant: resolve,
          fail: reject,
          detach: () => signal.removeEventListener('abort', onAbort),
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.add(waiter);
      });
    },
    peek() {
      for (const waiter of waiters) return waiter;
      return undefined;
    },
    shift() {
      for (const waiter of waiters) {
        waiters.delete(waiter);
        waiter.detach();
        return waiter;
      }
      return undefined;
    },
  };
}
