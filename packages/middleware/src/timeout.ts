// timeout(): a deadline for everything inside it, on a child of the call's scope (ctx.scope).
// Before retry() it bounds the whole call; after retry() it bounds each attempt.
import {
  defineMiddleware,
  ConfigError,
  type Context,
  type HttpResponse,
  type Middleware,
  type Next,
  type OptionSpec,
  option,
  readOptions,
  TimeoutError,
} from '@extapi/core';

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** The deadline in ms, from the moment the call reaches this middleware. Required; 1 to 2^31 − 1. */
  ms: number;
}

const SPEC = {
  ms: option.ms({ min: 1 }),
} satisfies OptionSpec<TimeoutOptions>;

/**
 * Validates {@link TimeoutOptions} (a bare value is `{ ms }`; own properties only, unknown ones
 * refused with the nearest known name); throws `ConfigError` naming the option and the value.
 * @example
 * resolveTimeoutOptions(2_000); // { ms: 2000 }
 */
export function resolveTimeoutOptions(options: TimeoutOptions | number): Required<TimeoutOptions> {
  const input = typeof options === 'object' && options !== null ? options : { ms: options };
  const { ms } = readOptions('timeout()', input, SPEC);
  // Required: a timeout() without a deadline is a mistake, not a default.
  if (ms === undefined) throw new ConfigError('ms', undefined, 'expected a number of ms from 1');
  return { ms };
}

/**
 * Gives everything inside it `ms` milliseconds: the inner call runs on a child of `ctx.scope` whose
 * deadline is `ms` from now, and the call rejects with `TimeoutError` (`phase: 'middleware'`,
 * naming `ms`) at the deadline even if something inside ignores the abort. A caller's abort still
 * rejects with the caller's reason. With `readBody: false` the deadline covers the response head,
 * and a caller's abort still reaches the body until it closes.
 *
 * Per pass: a child scope on the call's one timer (no timer, controller or listener of its own);
 * no state is shared between calls.
 * @example
 * createClient([timeout({ ms: 10_000 }), retry(), timeout({ ms: 2_000 }), undiciTransport()]);
 */
export function timeout(options: TimeoutOptions | number): Middleware {
  const { ms } = resolveTimeoutOptions(options);

  // The reason at the deadline, for the pass `ctx`: one function for every call.
  const reason = (ctx: Context) => {
    const { method, url } = ctx.request;
    return new TimeoutError(ms, { phase: 'middleware', method, url, attempt: ctx.attempt });
  };

  const middleware = function timeout(ctx: Context, next: Next): Promise<HttpResponse> {
    const parent = ctx.scope;
    if (parent.aborted) return Promise.reject(parent.reason);
    // The race rejects at the deadline even if an inner layer ignores the abort (a response that
    // still comes after it is discarded), and a caller's abort rejects with the caller's reason.
    const scope = parent.child(ms, reason, ctx);
    return scope.bound(next, ctx.clone({ scope }));
  };
  return defineMiddleware(middleware, { name: 'timeout' });
}
