// hedge(): when an idempotent attempt has not answered within a delay, sends a copy; the first answer wins.
// Placed after retry() (each attempt may hedge) and before the limits, so each hedge takes its own slot.
import {
  type AbortScope,
  type Context,
  defineMiddleware,
  type HttpResponse,
  isReplayableBody,
  type Middleware,
  type Next,
} from '@extapi/core';
import { isIdempotentRequest } from '../retry/idempotency.js';
import { createLatencyWindow, type LatencyWindow } from './latency.js';
import { markHedge } from './mark.js';
import { type HedgeOptions, type ResolvedHedgeOptions, resolveHedgeOptions } from './options.js';

export { hedgeNumber } from './mark.js';
export { createLatencyWindow, type LatencyWindow, type LatencyWindowOptions } from './latency.js';
export {
  DEFAULT_HEDGE_OPTIONS,
  type HedgeInfo,
  type HedgeOptions,
  type LatencyPercentile,
  type ResolvedHedgeOptions,
  resolveHedgeOptions,
} from './options.js';

// What the stack check knows of hedge(): it re-sends (what sits after it runs per hedge), two of
// them multiply, and above retry() a hedge would be a whole second retry loop.
const HEDGE_PLACEMENT = {
  name: 'hedge',
  placement: {
    resends: true,
    unique: true,
    inside: ['retry'],
    reason: 'above retry() a hedge starts a second retry loop, and two hedge() multiply the copies',
  },
};

// One reason for every attempt that lost the race: it is never shown to the caller.
const LOST = new Error('hedge(): another attempt answered first');

/** How an attempt failed: an error, or an answer with one of `statusCodes`. */
interface Failure {
  response: HttpResponse | undefined;
  error: unknown;
  attempt: number;
}

/**
 * One hedged call: the attempts in flight, the timer of the next hedge, the first failure.
 * An object per call rather than closures per callback: the common path (the first attempt
 * answers before the delay) allocates it, one scope, one clone and one timer.
 */
class Race {
  readonly scopes: AbortScope[] = [];
  readonly startedAt: number;
  pending = 0;
  done = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  failure: Failure | undefined;
  offCaller: (() => void) | undefined;

  constructor(
    readonly config: ResolvedHedgeOptions,
    readonly latency: LatencyWindow | undefined,
    readonly ctx: Context,
    readonly next: Next,
    readonly resolve: (response: HttpResponse) => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.startedAt = config.now();
  }

  delay(): number {
    return this.config.delayMs ?? this.latency!.percentile();
  }

  launch(hedge: number): void {
    const scope = this.ctx.scope.fork();
    const attemptCtx = this.ctx.clone({ scope });
    if (hedge > 0) {
      markHedge(attemptCtx, hedge);
      this.config.onHedge?.({
        hedge,
        delayMs: this.config.now() - this.startedAt,
        ctx: attemptCtx,
      });
    }
    this.scopes.push(scope);
    this.pending++;
    this.next(attemptCtx).then(
      (response) => this.answered(hedge, response),
      (error: unknown) => this.failed(hedge, error),
    );
  }

  answered(i: number, response: HttpResponse): void {
    this.pending--;
    if (this.done) {
      this.scopes[i]!.dispose();
      void response?.discard();
      return;
    }
    // A failing status loses to an attempt still in flight, as an error does.
    if (response && this.config.statusCodes.has(response.status)) {
      this.lost({ response, error: undefined, attempt: i });
      return;
    }
    this.finish();
    this.latency?.record(this.config.now() - this.startedAt);
    this.scopes[i]!.release(response?.body);
    for (let j = 0; j < this.scopes.length; j++) if (j !== i) this.scopes[j]!.abort(LOST);
    void this.failure?.response?.discard();
    this.resolve(response);
  }

  failed(i: number, error: unknown): void {
    this.pending--;
    if (this.done) this.scopes[i]!.dispose();
    else this.lost({ response: undefined, error, attempt: i });
  }

  /** An attempt failed: the call waits for the others, and ends in the first failure if all fail. */
  lost(outcome: Failure): void {
    if (this.failure === undefined) this.failure = outcome;
    else void outcome.response?.discard();
    if (this.pending > 0) return;
    this.finish();
    const first = this.failure;
    for (let j = 0; j < this.scopes.length; j++) if (j !== first.attempt) this.scopes[j]!.dispose();
    if (first.response !== undefined) {
      this.scopes[first.attempt]!.release(first.response.body);
      this.resolve(first.response);
    } else {
      this.scopes[first.attempt]!.dispose();
      this.reject(first.error);
    }
  }

  /** The caller's abort or deadline ends the call at once, even if a layer below ignores it. */
  callerAborted(reason: unknown): void {
    if (this.done) return;
    this.finish();
    void this.failure?.response?.discard();
    this.reject(reason);
  }

  finish(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.offCaller?.();
  }
}

/** The timer of a race: sends the next hedge when the budget allows, and arms the one after. */
function onDelay(race: Race): void {
  race.timer = undefined;
  if (race.done) return;
  const { budget, maxHedges } = race.config;
  if (budget !== undefined && !budget.withdraw()) return;
  const hedge = race.scopes.length;
  race.launch(hedge);
  if (hedge < maxHedges) race.timer = setTimeout(onDelay, race.delay(), race);
}

/**
 * Hedged requests ("The Tail at Scale"): when an idempotent call's attempt has not answered
 * within `delayMs`, sends a copy (a hedge) through the rest of the stack, up to `maxHedges`
 * copies `delayMs` apart; the first answer wins, the other attempts are aborted and a response
 * that still comes is discarded, so its connection comes back.
 *
 * - Which calls: the rule of `retry()` (`isIdempotentRequest`): GET, HEAD, OPTIONS, PUT, DELETE,
 *   TRACE, or any method with an `Idempotency-Key` header, with a replayable body. Any other call
 *   passes straight through (one method check).
 * - The winner: the first response whose status is not in `statusCodes`. An error, or a response
 *   with one of them (a 503), loses to an attempt still in flight; when every attempt in flight
 *   has failed, the call ends in the first failure (that response, or that attempt's own error).
 * - A fast failure is not hedged: if the first attempt fails before `delayMs`, the call ends in
 *   that failure at once. Failures are retry()'s job (placed above hedge(), it retries with its
 *   backoff and Retry-After); hedging is for slowness.
 * - Delay: a fixed `delayMs`, or a percentile (`'p95'`) of the latencies of recent winning
 *   answers of this instance (from the call's first attempt to the answer), `fallbackDelayMs`
 *   until `minSamples` have come.
 * - Budget: hedges are kept to `ratio` of hedgeable calls plus `perSecond` (retry()'s token
 *   bucket, default 10 % plus 1 per second); when it is spent the call waits for its attempt.
 * - A hedge is an attempt below hedge(): it runs every middleware after hedge() (a limiter slot,
 *   a rate-limit start, a span, a log line) with its own `ctx.clone()` and its own abort scope
 *   (`ctx.scope.fork()`). It keeps `ctx.attempt`; `hedgeNumber(ctx)` tells it apart (1, 2…).
 * - A caller's abort or an enclosing deadline aborts every attempt and rejects with its reason.
 *
 * Per hedgeable call: one race object, one abort scope, one clone and one timer (cleared at the
 * first answer). Shared by every call through this instance: the latency window and the budget
 * (pass a `RetryBudget` to share it further).
 *
 * @example
 * const client = createClient([
 *   retry(),                                  // each attempt may hedge
 *   hedge({ delayMs: 'p95', maxHedges: 1 }),  // a copy when an answer is slower than 95 % of them
 *   timeout({ ms: 2_000 }),                   // per attempt, hedges included
 *   concurrencyLimit({ max: 20 }),            // a hedge takes its own slot
 *   undiciTransport(),
 * ]);
 */
export function hedge(options: HedgeOptions = {}): Middleware {
  const config = resolveHedgeOptions(options);
  const { budget } = config;
  const latency =
    config.percentile === undefined
      ? undefined
      : createLatencyWindow({
          size: config.window,
          minSamples: config.minSamples,
          percentile: config.percentile,
          fallback: config.fallbackDelayMs,
        });

  const middleware = function hedge(ctx: Context, next: Next): Promise<HttpResponse> {
    const { request } = ctx;
    if (!isIdempotentRequest(request) || !isReplayableBody(request.body)) return next(ctx);
    const scope = ctx.scope;
    if (scope.aborted) return Promise.reject(scope.reason);
    budget?.deposit();
    return new Promise<HttpResponse>((resolve, reject) => {
      const race = new Race(config, latency, ctx, next, resolve, reject);
      if (scope.canAbort) race.offCaller = scope.onAbort((reason) => race.callerAborted(reason));
      race.timer = setTimeout(onDelay, race.delay(), race);
      race.launch(0);
    });
  };
  return defineMiddleware(middleware, HEDGE_PLACEMENT);
}
