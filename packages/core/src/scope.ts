// One call's cancellation: who may abort it (the caller's signal, deadlines) and who listens (waits,
// the transport). Plain listeners and one timer per call; an AbortSignal is made only when asked for.
import {
  type DeadlineEntry,
  type DeadlineList,
  delist,
  enlist,
  kExpire,
  kList,
  kNext,
  kPrev,
  now,
} from './deadlines.js';
import { type AbortFollower, bound, kRejectBound, race, type StreamedBody } from './scope-race.js';
import { follow, NEVER_ABORT, unfollow } from './signal.js';

type Listener = (reason: unknown) => void;

/**
 * The cancellation of one call, or of a part of it (an attempt, a `timeout()`): it aborts once,
 * with a reason, when its parent aborts, when the caller's signal aborts, or when its deadline
 * passes. Listeners are plain functions (no EventTarget, whose listeners cost microseconds), and
 * deadlines take no timer of their own: the process keeps one list per duration, with one timer
 * armed for the list's oldest deadline, so a deadline costs a few pointer writes.
 *
 * It is also an EventTarget-shaped object (`aborted`, `reason`, `addEventListener`,
 * `removeEventListener`), so it can be handed to undici as a `signal`; `signal` gives a real
 * `AbortSignal` for APIs that need one (fetch), made on first use.
 *
 * Middleware reach it as `ctx.scope`: `onAbort` to stop a wait, `race` to bound a promise,
 * `child` (as `timeout()` does) for a shorter deadline.
 */
export class AbortScope implements DeadlineEntry {
  /** Whether the scope has aborted. */
  aborted = false;
  /** When the scope's own deadline passes, in `performance.now()` ms; `Infinity` for none. */
  readonly deadline: number;
  /** Why it aborted: the caller's reason, or the `TimeoutError` of the deadline that passed. */
  reason: unknown = undefined;
  /** Whether anything can ever abort this scope (a signal, a deadline, a parent that can). */
  readonly canAbort: boolean;

  #listeners: Array<Listener | AbortFollower> | undefined;
  #signal: AbortSignal | undefined;
  readonly #parent: AbortScope | undefined;
  readonly #onTimeout: ((arg: unknown) => unknown) | undefined;
  #timeoutArg: unknown = undefined;
  #external: AbortSignal | undefined;
  // Its place in the deadline list of its duration (see deadlines.ts), while its deadline counts.
  /** @hidden */
  [kList]: DeadlineList | undefined = undefined;
  /** @hidden */
  [kPrev]: DeadlineEntry | undefined = undefined;
  /** @hidden */
  [kNext]: DeadlineEntry | undefined = undefined;
  /** @hidden Rejects the work {@link bound} races, while it runs (see scope-race.ts). */
  [kRejectBound]: ((reason: unknown) => void) | undefined = undefined;

  /**
   * @param parent the enclosing scope; none for a call's root.
   * @param timeoutMs a deadline this many ms from now; `undefined` or `0` for none.
   * @param onTimeout makes the reason the scope aborts with when its deadline passes.
   * @param signal an outside signal (the caller's) that aborts the scope with its reason.
   * @param abortable whether its own `abort()` counts even when nothing else can abort it.
   */
  constructor(
    parent?: AbortScope,
    timeoutMs?: number,
    onTimeout?: (arg: unknown) => unknown,
    signal?: AbortSignal,
    abortable = false,
  ) {
    this.#parent = parent?.canAbort ? parent : undefined;
    this.#onTimeout = onTimeout;
    this.deadline = timeoutMs ? now() + timeoutMs : Number.POSITIVE_INFINITY;
    const external = signal !== undefined && signal !== NEVER_ABORT ? signal : undefined;
    this.canAbort =
      abortable || this.#parent !== undefined || timeoutMs! > 0 || external !== undefined;
    if (this.#parent !== undefined) {
      if (this.#parent.aborted) this.abort(this.#parent.reason);
      else this.#parent.#listen(this);
    }
    if (external !== undefined && !this.aborted) {
      if (external.aborted) this.abort(external.reason);
      else {
        this.#external = external;
        follow(external, this);
      }
    }
    if (timeoutMs! > 0 && !this.aborted) enlist(this, timeoutMs!);
  }

  /**
   * A scope inside this one, with its own (shorter) deadline. Call {@link dispose} when done.
   * `onTimeout(arg)` makes the reason it aborts with at that deadline: a function shared by every
   * call and the call's own `arg` (its context) cost no closure per call.
   */
  child<A>(timeoutMs?: number, onTimeout?: (arg: A) => unknown, arg?: A): AbortScope {
    if (!timeoutMs && !this.canAbort) return this;
    const scope = new AbortScope(this, timeoutMs, onTimeout as (arg: unknown) => unknown);
    scope.#timeoutArg = arg;
    return scope;
  }

  /**
   * A scope inside this one that its owner may abort on its own, even when nothing else can abort
   * this one: one of several attempts racing (hedging), where the losers are aborted. It aborts
   * with this one too. Call {@link dispose} (or {@link release}) when done.
   * @example
   * const scope = ctx.scope.fork();
   * const attempt = next(ctx.clone({ scope }));
   * // … another attempt answered first:
   * scope.abort(new Error('lost the race'));
   */
  fork(): AbortScope {
    return new AbortScope(this, 0, undefined, undefined, true);
  }

  /** The deadline that ends this scope first: its own or an enclosing one's. */
  get nearestDeadline(): number {
    let at = this.deadline;
    for (let s = this.#parent; s !== undefined; s = s.#parent) at = Math.min(at, s.deadline);
    return at;
  }

  /** Aborts the scope and every scope inside it with `reason`; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const rejectBound = this[kRejectBound];
    if (rejectBound !== undefined) {
      this[kRejectBound] = undefined;
      rejectBound(reason);
    }
    const listeners = this.#listeners;
    this.#listeners = undefined;
    this.stop();
    this.#unlink();
    if (listeners === undefined) return;
    for (const listener of listeners) {
      if (typeof listener === 'function') listener(reason);
      else listener.abort(reason);
    }
  }

  /**
   * Calls `listener(reason)` once when the scope aborts, and returns the function that removes
   * it. Nothing is added when the scope has already aborted or can never abort: check
   * `aborted` first.
   */
  onAbort(listener: Listener): () => void {
    if (this.aborted || !this.canAbort) return noop;
    this.#listen(listener);
    return () => this.#remove(listener);
  }

  /**
   * Has `follower.abort(reason)` called once when the scope aborts, as a child scope's is: the
   * object is its own listener, so following costs no closure and no function to remove it (a
   * transport's per-call handler). Remove it with {@link detach}. Nothing is added when the scope
   * has already aborted or can never abort: check `aborted` first.
   * @example
   * if (ctx.scope.canAbort) ctx.scope.attach(handler); // …and ctx.scope.detach(handler) when done
   */
  attach(follower: AbortFollower): void {
    if (!this.aborted && this.canAbort) this.#listen(follower);
  }

  /** Stops following: `follower` is no longer aborted with the scope (see {@link attach}). */
  detach(follower: AbortFollower): void {
    this.#remove(follower);
  }

  /**
   * `promise`, or a rejection with the scope's reason as soon as it aborts, whichever comes
   * first; a response that arrives after the abort is discarded, so its connection comes back.
   */
  race<T>(promise: Promise<T>): Promise<T> {
    return race(this, promise);
  }

  /**
   * {@link race} for the work this scope was made for (a `timeout()`'s child scope around the rest
   * of the stack), which also ends the scope with the work: released when a response comes (a body
   * still streaming keeps hearing the enclosing scopes until it closes), disposed on a failure.
   * `work(arg)` is called here, so the layers inside already see the scope as {@link raced}; a
   * throw from it is a rejection. Like {@link child}'s `onTimeout`, a function shared by every
   * call with the call's own `arg` costs no closure per call. A scope bounds one work: another is
   * only raced.
   * @example
   * const scope = ctx.scope.child(2_000, onTimeout, ctx);
   * return scope.bound(next, ctx.clone({ scope }));
   */
  bound<
    T extends
      | {
          /** The response's body: a stream still open keeps the enclosing scopes until it closes. */
          body?: unknown;
        }
      | undefined,
    A,
  >(work: (arg: A) => Promise<T>, arg: A): Promise<T> {
    return bound(this, work, arg);
  }

  /**
   * Whether the work this scope was made for is {@link bound} now: its owner (a `timeout()`) rejects
   * it as soon as the scope aborts, whatever the layers inside do. A layer inside with nothing of
   * its own to release on an abort (retry between attempts) need not {@link race} again.
   * @example
   * const answer = await (scope.raced ? next(attempt) : scope.race(next(attempt)));
   */
  get raced(): boolean {
    return this[kRejectBound] !== undefined;
  }

  /**
   * Ends the scope without aborting it: its deadline stops counting and it leaves its parent
   * and the caller's signal. A scope a streamed body still listens to is disposed when the body
   * closes (see the client and `timeout()`).
   */
  dispose(): void {
    this.stop();
    this.#unlink();
  }

  /** A real `AbortSignal` that follows this scope, for APIs that need one (fetch, third parties). */
  get signal(): AbortSignal {
    if (this.#signal !== undefined) return this.#signal;
    if (!this.canAbort) return NEVER_ABORT;
    if (this.aborted) {
      this.#signal = AbortSignal.abort(this.reason);
      return this.#signal;
    }
    const controller = new AbortController();
    this.#signal = controller.signal;
    this.onAbort((reason) => controller.abort(reason));
    return this.#signal;
  }

  /**
   * The work this scope bounded has answered: its deadline stops counting. A body still streaming
   * (`readBody: false`) keeps following the enclosing scope, so a caller's abort still reaches it,
   * until the body closes; then the scope is disposed. A web ReadableStream (the build for browsers
   * and workers) has no close event: its scope stays under the enclosing one and goes with it.
   */
  release(body?: StreamedBody | null): void {
    this.stop();
    if (!body || body.destroyed || body.readableEnded) this.dispose();
    else if (typeof body.once === 'function') body.once('close', () => this.dispose());
  }

  /** EventTarget shape for undici's `signal`: the listener is called once on abort. */
  addEventListener(_type: 'abort', listener: () => void): void {
    this.onAbort(listener as Listener);
  }

  /** EventTarget shape for undici's `signal`. */
  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#remove(listener as Listener);
  }

  /** Throws the reason if the scope has aborted (as `AbortSignal#throwIfAborted`). */
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  #listen(listener: Listener | AbortFollower): void {
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  #remove(listener: Listener | AbortFollower): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    // Listeners mostly leave in the reverse order they came (a layer's, then its caller's): pop.
    const i = listeners.lastIndexOf(listener);
    if (i === -1) return;
    // Shifted by hand: splice() would allocate the array of what it removed.
    for (let j = i + 1; j < listeners.length; j++) listeners[j - 1] = listeners[j]!;
    listeners.pop();
  }

  #unlink(): void {
    if (this.#parent !== undefined) this.#parent.#remove(this);
    if (this.#external !== undefined) {
      unfollow(this.#external, this);
      this.#external = undefined;
    }
  }

  /**
   * Stops the scope's own deadline; it still follows the enclosing scope (a body streamed under
   * it still hears a caller's abort) until it is disposed or the call's root is.
   */
  stop(): void {
    const list = this[kList];
    if (list !== undefined) delist(this, list);
  }

  /** @hidden Its deadline passed: it aborts with the reason `onTimeout` makes. */
  [kExpire](): void {
    this.abort(this.#onTimeout?.(this.#timeoutArg) ?? new Error('deadline passed'));
  }
}

function noop(): void {}
