// Turns undici and Node network errors into extapi's error family with normalised codes.
// Used by the undici transport only; the mapping itself is core's, shared with the fetch transport.
import {
  callError,
  type Context,
  type NetworkTimeouts,
  type TimeoutError,
  type TransportError,
  toNetworkError,
} from '@extapi/core';

/** The deadlines the transport was built with, for the `timeoutMs` of a {@link TimeoutError}. */
export type UndiciTimeouts = NetworkTimeouts;

/**
 * The error a failed undici call rejects with: the call's abort reason when `ctx.scope` aborted,
 * extapi errors as they are, timeouts as {@link TimeoutError} (phase `connect`, `headers` or `body`),
 * network failures as {@link TransportError} with a normalised `code`. `cause` is the original error.
 * @example
 * try { return await dispatcher.request(opts); } catch (error) { throw mapUndiciError(error, ctx, timeouts); }
 */
export function mapUndiciError(error: unknown, ctx: Context, timeouts: UndiciTimeouts): unknown {
  return callError(error, ctx, (cause, info) =>
    toNetworkError(cause, info, timeouts, { proxyAuthHint: PROXY_AUTH_HINT }),
  );
}

const PROXY_AUTH_HINT = 'check the proxy credentials (proxy URL or proxyAuth)';
