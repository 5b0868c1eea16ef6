// retry(): re-sends a call on network errors, timeouts and 408/429/5xx, honouring the server's delay.
// Placed early in the stack: what sits before it runs once per call, what sits after it per attempt.
import {
  defineMiddleware,
  type AbortScope,
  type Context,
  type HttpResponse,
  HttpStatusError,
  isExtapiError,
  isHttpStatusError,
  isReplayableBody,
  isTimeoutError,
  isTransportError,
  type Middleware,
  sleep,
  type Next,
  parseRateLimitReset,
  parseRetryAfter,
  recordAttempts,
  redactUrl,
} from '@extapi/core';
import { backoffDelay } from './backoff.js';
import { isIdempotentRequest } from './idempotency.js';
import {
  type ResolvedRetryOptions,
  type RetryOptions,
  type RetryOutcome,
  resolveRetryOptions,
} from './options.js';

// What the stack check knows of retry(): it re-sends, and two of them multiply their attempts.
const RETRY_PLACEMENT = {
  name: 'retry',
  placement: { resends: true, unique: true, reason: 'the attempts multiply (3 × 3 = 9 requests)' },
};

export { backoffDelay, type BackoffOptions } from './backoff.js';
export {
  createRetryBudget,
  DEFAULT_RETRY_BUDGET_OPTIONS,
  type RetryBudget,
  type RetryBudgetOptions,
} from './budget.js';
export { IDEMPOTENT_METHODS, isIdempotentRequest } from './idempotency.js';
export {
  DEFAULT_RETRY_OPTIONS,
  type ResolvedRetryOptions,
  resolveRetryOptions,
  type RetryInfo,
  type RetryOptions,
  type RetryOutcome,
  type RetryPolicy,
} from './options.js';

// Methods that change state and carry no idempotency of their own (RFC 9110 §9.2.2).
const UNSAFE_METHODS = new Set(['POST', 'PATCH']);

/** Why and after how long to retry; `server` when the delay is the server's word. */
interface Decision {
  reason: string;
  delayMs: number | undefined;
  server: boolean;
}

/** The response an outcome carries: answered, or inside an `HttpStatusError` from `expectStatus`. */
function responseOf(outcome: RetryOutcome): HttpResponse | undefined {
  if (outcome.response) return outcome.response;
  return isHttpStatusError(outcome.error) ? outcome.error.response : undefined;
}

/**
 * The call ends in the last attempt's own error, telling how many attempts it took and why the
 * earlier ones failed (as got, ky and the AWS SDK do), so isHttpStatusError(e) & co. still hold.
 */
function giveUp(error: unknown, attempts: number, errors: unknown[], previous = attempts - 1) {
  return previous > 0 ? recordAttempts(error, attempts, errors.slice(0, previous)) : error;
}

/** A deadline of this call (a TimeoutError) learns the attempts too; a caller's reason is theirs. */
function abortReason(scope: AbortScope, attempts: number, errors: unknown[], previous: number) {
  return isExtapiError(scope.reason)
    ? giveUp(scope.reason, attempts, errors, previous)
    : scope.reason;
}

/**
 * An attempt, ended at once when the call's scope aborts even if a layer inside ignores the abort
 * (its late response released): race() does that, unless the scope's owner already does it for
 * the whole call (a `timeout()` around retry), or nothing can abort the call.
 */
function attempted(scope: AbortScope, attempt: Promise<HttpResponse>): Promise<HttpResponse> {
  return scope.raced ? attempt : scope.race(attempt);
}

/**
 * Re-sends a call that failed in a way worth retrying: a `TransportError`, a `TimeoutError` from a
 * `timeout()` inside it, or a status in `statusCodes` (as a response or as the `HttpStatusError` of
 * an inner `expectStatus`; any other `HttpStatusError` is thrown at once).
 *
 * - Idempotency: network errors, timeouts and 5xx other than 503 are retried only for `methods` or
 *   a request with an `Idempotency-Key`; 429 and 503 (not processed) for any method.
 * - Delay: `Retry-After` (seconds or HTTP-date) on any retried response, else on 429/503
 *   `RateLimit-Reset` / `X-RateLimit-Reset` / `RateLimit`; a server delay above `maxRetryAfterMs`
 *   returns that response at once. Otherwise exponential backoff with full jitter. No wait after
 *   the last attempt.
 * - A body that cannot be replayed (stream, async iterable) is sent once and never retried.
 * - When retries end, a response is returned as is (the last attempt's, answered with a retryable
 *   status). An error ends the call as the last attempt's own error (`HttpStatusError` from an
 *   inner `expectStatus`, `TimeoutError`, `TransportError`, …), never a wrapper, so
 *   `isHttpStatusError(e)` and the like still hold; on it `attempts` says how many attempts were
 *   made and `previousErrors` holds the earlier ones (a retried response as an `HttpStatusError`).
 *   An abort of `ctx.signal` ends a wait or an attempt at once and rejects with the signal's reason
 *   (a `TimeoutError` of this call's deadline also gets `attempts` and `previousErrors`).
 * - Options are read once, own properties only; an unknown one is a `ConfigError` naming the
 *   nearest known option (`maxRetries` → did you mean `maxAttempts`?).
 *
 * Per call: the options check (already done here, once), one budget deposit, the
 * `Idempotency-Key`. Per attempt: a `ctx.clone({ attempt })` that every middleware after `retry()`
 * sees afresh, so headers they set never leak between attempts. Shared by every call through this
 * instance: the retry budget (a token bucket; pass a `RetryBudget` to share it further).
 *
 * @example
 * const client = createClient([
 *   timeout({ ms: 10_000 }),            // total deadline, once per call
 *   retry({ maxAttempts: 4, idempotencyKey: true }),
 *   timeout({ ms: 2_000 }),             // per attempt
 *   bearerAuth(getToken),               // a token per attempt
 *   undiciTransport(),
 * ]);
 */
export function retry(options: RetryOptions = {}): Middleware {
  const config: ResolvedRetryOptions = resolveRetryOptions(options);
  const { maxAttempts, statusCodes, methods, retryOn, budget, logger, onRetry } = config;

  function serverDelay(response: HttpResponse): number | undefined {
    const headers = response.headers;
    const retryAfter = parseRetryAfter(headers.get('retry-after'), config.now());
    if (retryAfter !== undefined) return retryAfter;
    // RateLimit-* describe a quota; they explain a delay only when the quota is why we failed.
    if (response.status === 429 || response.status === 503) {
      return parseRateLimitReset(headers, config.now());
    }
    return undefined;
  }

  function defaultDecision(outcome: RetryOutcome, idempotent: boolean): Decision | undefined {
    const { error } = outcome;
    const response = responseOf(outcome);
    if (response === undefined) {
      if (!isTransportError(error) && !isTimeoutError(error)) return undefined;
      return idempotent ? { reason: error.code, delayMs: undefined, server: false } : undefined;
    }
    const status = response.status;
    if (!statusCodes.has(status)) return undefined;
    // 429 and 503 say the server did not process the request, so any method may be re-sent.
    if (status !== 429 && status !== 503 && !idempotent) return undefined;
    const delayMs = serverDelay(response);
    return { reason: `status ${status}`, delayMs, server: delayMs !== undefined };
  }

  function decide(outcome: RetryOutcome, ctx: Context, idempotent: boolean): Decision | undefined {
    for (const policy of retryOn) {
      const verdict = policy(outcome, ctx);
      if (verdict === undefined) continue;
      if (verdict === false) return undefined;
      if (typeof verdict === 'number' && Number.isFinite(verdict) && verdict >= 0) {
        return { reason: 'retryOn', delayMs: verdict, server: false };
      }
      if (verdict !== true) {
        throw new TypeError(
          `retryOn policy ${policy.name || '(anonymous)'} returned ${String(verdict)}`,
        );
      }
      const response = responseOf(outcome);
      const delayMs = response && serverDelay(response);
      return { reason: 'retryOn', delayMs, server: delayMs !== undefined };
    }
    return defaultDecision(outcome, idempotent);
  }

  /** A clone of `ctx` for attempt `attempt`, carrying the call's `Idempotency-Key` when it has one. */
  function attemptOf(ctx: Context, attempt: number, key: string | undefined): Context {
    const attemptCtx = ctx.clone({ attempt });
    if (key !== undefined) attemptCtx.request.headers.set('idempotency-key', key);
    return attemptCtx;
  }

  /** Whether an answer ends the call as it is: a status nothing retries, and no policy to ask. */
  const final = (response: HttpResponse) =>
    retryOn.length === 0 && !statusCodes.has(response.status);

  // Not async: the first attempt costs one `.then`; only an answer that needs a decision
  // enters the loop (settle).
  const middleware = function retry(ctx: Context, next: Next): Promise<HttpResponse> {
    budget?.deposit();
    const { method } = ctx.request;
    // The headers only when the method needs them: reading a clone's headers makes it copy them.
    let key: string | undefined;
    if (
      config.idempotencyKey &&
      UNSAFE_METHODS.has(method) &&
      !ctx.request.headers.has('idempotency-key')
    ) {
      // Web Crypto: the same generator as node:crypto's, on every runtime.
      key = globalThis.crypto.randomUUID();
    }
    const idempotent = key !== undefined || isIdempotentRequest(ctx.request, methods);
    const attemptCtx = attemptOf(ctx, 1, key);
    return attempted(ctx.scope, next(attemptCtx)).then(
      (response) =>
        final(response)
          ? response
          : settle(ctx, next, key, idempotent, attemptCtx, { attempt: 1, response }),
      (error: unknown) => settle(ctx, next, key, idempotent, attemptCtx, { attempt: 1, error }),
    );
  };

  /** The rest of a call whose attempt ended in `outcome`: decide, then re-send, answer or give up. */
  async function settle(
    ctx: Context,
    next: Next,
    key: string | undefined,
    idempotent: boolean,
    firstCtx: Context,
    first: RetryOutcome,
  ): Promise<HttpResponse> {
    const { method, url } = ctx.request;
    const replayable = isReplayableBody(ctx.request.body);
    // The errors of the attempts so far, oldest first; a retried response as an HttpStatusError.
    const errors: unknown[] = [];
    const scope = ctx.scope;
    let attemptCtx = firstCtx;
    let outcome = first;
    for (let attempt = first.attempt; ; ) {
      if (!outcome.response && scope.aborted) {
        throw abortReason(scope, attempt, errors, attempt - 1);
      }
      const decision = replayable ? decide(outcome, attemptCtx, idempotent) : undefined;
      if (decision === undefined) {
        if (outcome.response) return outcome.response;
        throw giveUp(outcome.error, attempt, errors);
      }
      const response = responseOf(outcome);
      errors.push(
        outcome.response ? new HttpStatusError(outcome.response, { attempt }) : outcome.error,
      );
      if (
        attempt >= maxAttempts ||
        // Waiting longer than the caller allows is pointless: hand back the server's answer now.
        (decision.server && decision.delayMs! > config.maxRetryAfterMs) ||
        (budget !== undefined && !budget.withdraw())
      ) {
        if (outcome.response) return outcome.response;
        throw giveUp(outcome.error, attempt, errors);
      }
      const delayMs = decision.delayMs ?? backoffDelay(attempt, config.backoff, config.random);
      await response?.discard();
      onRetry?.({
        attempt,
        maxAttempts,
        delayMs,
        reason: decision.reason,
        response,
        error: outcome.error,
        ctx: attemptCtx,
      });
      logger?.warn(
        { attempt, maxAttempts, delayMs, reason: decision.reason, method, url: redactUrl(url) },
        `retry #${attempt}/${maxAttempts - 1} of ${method} ${redactUrl(url)}`,
      );
      try {
        // core's sleep listens to the scope itself; a sleep of the user's gets a real AbortSignal.
        await (config.sleep === sleep ? sleep(delayMs, scope) : config.sleep(delayMs, ctx.signal));
      } catch (error) {
        throw scope.aborted ? abortReason(scope, attempt, errors, attempt) : error;
      }
      attempt++;
      attemptCtx = attemptOf(ctx, attempt, key);
      try {
        const answer = await attempted(scope, next(attemptCtx));
        if (final(answer)) return answer;
        outcome = { attempt, response: answer };
      } catch (error) {
        outcome = { attempt, error };
      }
    }
  }

  return defineMiddleware(middleware, RETRY_PLACEMENT);
}
