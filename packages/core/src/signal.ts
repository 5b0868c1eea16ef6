// Helpers for middleware authors: abortable sleep and signal combination; and how scopes follow a
// caller's signal.
// Every wait in extapi goes through these so that a caller's abort always ends it at once.

/**
 * What a wait needs of a signal: `AbortSignal` and `AbortScope` both fit, so helpers that
 * take one (`sleep`, the limiters' queues) work with `ctx.scope`, whose listeners are cheap.
 */
export interface AbortLike {
  /** Whether it has aborted. */
  readonly aborted: boolean;
  /** Why it aborted. */
  readonly reason: unknown;
  /** Calls `listener` once when it aborts. */
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type: 'abort', listener: () => void): void;
}

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

/** What follows an outside signal: a call's scope. */
interface Follower {
  abort(reason: unknown): void;
}

// The scopes that follow each outside signal, behind one listener on it: calls that share a signal
// (one per batch, per incoming request, per shutdown) would otherwise add a listener each, and an
// AbortSignal warns of a leak past 10 (MaxListenersExceededWarning), besides the cost of each.
const followers = new WeakMap<AbortSignal, { scopes: Set<Follower>; listener: () => void }>();

/** `scope` aborts with `signal`'s reason when it aborts, until {@link unfollow}. */
export function follow(signal: AbortSignal, scope: Follower): void {
  const entry = followers.get(signal);
  if (entry !== undefined) {
    entry.scopes.add(scope);
    return;
  }
  const scopes = new Set([scope]);
  const listener = () => {
    followers.delete(signal);
    for (const follower of scopes) follower.abort(signal.reason);
  };
  followers.set(signal, { scopes, listener });
  signal.addEventListener('abort', listener, { once: true });
}

/** `scope` no longer follows `signal`. */
export function unfollow(signal: AbortSignal, scope: Follower): void {
  const entry = followers.get(signal);
  if (entry === undefined || !entry.scopes.delete(scope) || entry.scopes.size > 0) return;
  // The last follower left: a long-lived signal keeps no listener of ours.
  followers.delete(signal);
  signal.removeEventListener('abort', entry.listener);
}
