// Helpers for middleware authors: abortable sleep and signal combination.
// Every wait in extapi goes through these so that a caller's abort always ends it at once.

import type { AbortLike } from './scope.js';

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts (an
 * `AbortSignal`, or `ctx.scope`, whose listeners are cheaper).
 * The timer and the listener are always removed.
 * @example
 * await sleep(backoffMs, ctx.scope);
 */
export function sleep(ms: number, signal?: AbortLike): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A signal that never aborts, used as `ctx.signal` for calls with neither a caller's signal nor a
 * deadline. Creating an AbortController costs more than the rest of the client's work per call, so
 * such calls share this one. Listeners on it could never fire, so adding one is a no-op: nothing
 * accumulates however many calls are in flight. Transports may skip passing it on.
 */
export const NEVER_ABORT: AbortSignal = (() => {
  const signal = new AbortController().signal;
  const noop = () => {};
  Object.defineProperties(signal, {
    addEventListener: { value: noop },
    removeEventListener: { value: noop },
  });
  return signal;
})();

/** A signal derived from others, with `dispose()` to detach it when the work is done. */
export interface LinkedSignal {
  /** The derived signal: aborts when the parent aborts or `abort()` is called. */
  readonly signal: AbortSignal;
  /** Aborts the derived signal with `reason` (others are unaffected). */
  abort(reason: unknown): void;
  /** Removes the listeners on the parent signals. Call it in `finally`. */
  dispose(): void;
}

/**
 * A signal that aborts when `parent` aborts (with its reason) or when `abort()` is called.
 * @deprecated Inside a middleware use `ctx.scope.child(ms, onTimeout)`: no AbortController, no
 * EventTarget listener, and the deadline shares the process's timer. Kept for existing code.
 * Unlike `AbortSignal.any`, the link is removed by `dispose()`, so a long-lived parent does not
 * collect one listener per call.
 * @example
 * const linked = linkSignal(ctx.signal);
 * const timer = setTimeout(() => linked.abort(new TimeoutError(ms)), ms);
 * try { return await next(ctx.clone({ signal: linked.signal })); } finally { clearTimeout(timer); linked.dispose(); }
 */
export function linkSignal(parent: AbortSignal | undefined): LinkedSignal {
  const controller = new AbortController();
  if (parent === NEVER_ABORT) parent = undefined;
  const onAbort = () => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => parent?.removeEventListener('abort', onAbort),
  };
}
