// timeout(): a deadline for everything inside it, enforced through a derived ctx.signal.
// Before retry() it bounds the whole call; after retry() it bounds each attempt.
import {
  ConfigError,
  type Context,
  type HttpResponse,
  linkSignal,
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
 * Gives everything inside it `ms` milliseconds: the inner call runs on `ctx.clone({ signal })` with
 * a signal that aborts at the deadline, and the call rejects with `TimeoutError` (`phase:
 * 'middleware'`, naming `ms`) even if something inside ignores the signal. A caller's abort still
 * rejects with the caller's reason. The timer is cleared when the call settles; with `readBody:
 * false` the deadline covers the response head, and a caller's abort still reaches the body.
 *
 * Per pass: one timer and one derived signal; no state is shared between calls.
 * @example
 * createClient([timeout({ ms: 10_000 }), retry(), timeout({ ms: 2_000 }), undiciTransport()]);
 */
export function timeout(options: TimeoutOptions | number): Middleware {
  const { ms } = resolveTimeoutOptions(options);

  return async function timeout(ctx: Context, next: Next): Promise<HttpResponse> {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const linked = linkSignal(ctx.signal);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let keepLink = false;
    try {
      const response = await new Promise<HttpResponse>((resolve, reject) => {
        // Reject from the signal itself, so an inner layer that ignores it cannot outlive the deadline.
        onAbort = () => reject(linked.signal.reason);
        linked.signal.addEventListener('abort', onAbort, { once: true });
        timer = setTimeout(() => {
          const { method, url } = ctx.request;
          linked.abort(
            new TimeoutError(ms, { phase: 'middleware', method, url, attempt: ctx.attempt }),
          );
        }, ms);
        next(ctx.clone({ signal: linked.signal })).then((response) => {
          if (linked.signal.aborted) void response.discard();
          resolve(response);
        }, reject);
      });
      if (response.body) {
        // A streamed body still listens to the derived signal: keep the caller's abort linked to it.
        keepLink = true;
        response.body.once('close', () => linked.dispose());
      }
      return response;
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw linked.signal.aborted ? linked.signal.reason : error;
    } finally {
      clearTimeout(timer);
      // The transport may keep the signal it was given (fetch does, after a body cut mid-read):
      // a listener left on it would keep this call's context and response alive with it.
      linked.signal.removeEventListener('abort', onAbort!);
      if (!keepLink) linked.dispose();
    }
  };
}
