// Turns undici and Node network errors into extapi's error family with normalised codes.
// Used by the undici transport only; the mapping itself is core's, shared with the fetch transport.
import {
  type Context,
  isExtapiError,
  type NetworkTimeouts,
  type TimeoutError,
  type TransportError,
  toNetworkError,
} from '@extapi/core';

/** The deadlines the transport was built with, for the `timeoutMs` of a {@link TimeoutError}. */
export type UndiciTimeouts = NetworkTimeouts;

/**
 * The error a failed undici call rejects with: the caller's abort reason when `ctx.signal` aborted,
 * extapi errors as they are, timeouts as {@link TimeoutError} (phase `connect`, `headers` or `body`),
 * network failures as {@link TransportError} with a normalised `code`. `cause` is the original error.
 * @example
 * try { return await dispatcher.request(opts); } catch (error) { throw mapUndiciError(error, ctx, timeouts); }
 */
export function mapUndiciError(error: unknown, ctx: Context, timeouts: UndiciTimeouts): unknown {
  if (ctx.scope.aborted) return ctx.scope.reason;
  if (isExtapiError(error)) return error;
  const info = {
    method: ctx.request.method,
    url: ctx.request.url,
    attempt: ctx.attempt,
    cause: error,
  };
  return toNetworkError(error, info, timeouts, {
    proxyAuthHint: 'check the proxy credentials (proxy URL or proxyAuth)',
  });
}
