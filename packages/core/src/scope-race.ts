// Racing work against a scope's abort, behind AbortScope's race() and bound(): race() for any
// promise, bound() for the work a scope was made for (a `timeout()`'s pass), which the scope's
// abort rejects directly through the function kept on it under kRejectBound.
import type { AbortScope } from './scope.js';

/** An object {@link AbortScope.attach} aborts with a scope, as a child scope is: its own listener. */
export interface AbortFollower {
  /** Called once, with the scope's reason, when the scope aborts. */
  abort(reason: unknown): void;
}

/** A body {@link AbortScope.release} can wait for: a Node stream (a web stream has no close event). */
export type StreamedBody = {
  destroyed: boolean;
  readableEnded: boolean;
  once(event: 'close', listener: () => void): unknown;
};

/** The scope's field that rejects the work it bounds, while that work runs. */
export const kRejectBound: unique symbol = Symbol('extapi.rejectBound');

/** A race's listener on its scope: the abort rejects the race and lets a late answer go. */
class Racer<T> implements AbortFollower {
  constructor(
    readonly promise: Promise<T>,
    readonly reject: (reason: unknown) => void,
  ) {}

  abort(reason: unknown): void {
    this.reject(reason);
    this.promise.then(discardLate, noop);
  }
}

/** See {@link AbortScope.race}. */
export function race<T>(scope: AbortScope, promise: Promise<T>): Promise<T> {
  if (scope.aborted) {
    promise.then(discardLate, noop);
    return Promise.reject(scope.reason);
  }
  if (!scope.canAbort) return promise;
  return new Promise<T>((resolve, reject) => {
    // The racer is its own listener: no closure for the abort, no unsubscribe function.
    const racer = new Racer(promise, reject);
    scope.attach(racer);
    promise.then(
      (value) => {
        scope.detach(racer);
        resolve(value);
      },
      (error) => {
        scope.detach(racer);
        reject(error);
      },
    );
  });
}

/** See {@link AbortScope.bound}. */
export function bound<T extends { body?: unknown } | undefined, A>(
  scope: AbortScope,
  work: (arg: A) => Promise<T>,
  arg: A,
): Promise<T> {
  if (scope.aborted || scope[kRejectBound] !== undefined) return race(scope, attempt(work, arg));
  // The resolvers are taken out of the executor, so that it and the two reactions below share one
  // closure context (scope, resolve, reject) per pass instead of one each.
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const bounded = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // abort() rejects it directly: no listener and no closure for the abort, per pass.
  scope[kRejectBound] = reject;
  attempt(work, arg).then(
    (value) => {
      // Aborted first: the caller has had its rejection, and the late response is let go.
      if (scope[kRejectBound] === undefined) discardLate(value);
      scope[kRejectBound] = undefined;
      // `?.`: a layer that forgot to return next() resolves nothing; the client names it.
      scope.release(value?.body as StreamedBody | undefined);
      resolve(value);
    },
    (error) => {
      scope[kRejectBound] = undefined;
      scope.dispose();
      reject(error);
    },
  );
  return bounded;
}

/** `work(arg)`'s promise, or its synchronous throw as a rejection. */
function attempt<A, T>(work: (arg: A) => Promise<T>, arg: A): Promise<T> {
  try {
    return work(arg);
  } catch (error) {
    return Promise.reject(error);
  }
}

function noop(): void {}

/** A response that came after the abort is released, so its connection comes back. */
function discardLate(value: unknown): void {
  const discard = (value as { discard?: unknown } | null)?.discard;
  if (typeof discard === 'function') void (discard as () => Promise<void>).call(value);
}
