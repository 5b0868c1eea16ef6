// Turns what fetch throws (`TypeError: fetch failed` / `terminated` with a `cause`) into extapi errors.
// Used by the fetch transport only; the cause is mapped by core's toNetworkError, as the undici transport's.
import {
  callError,
  type Context,
  ExtapiError,
  type ExtapiErrorOptions,
  errorCode,
  errorMessage,
  isExtapiError,
  type NetworkTimeouts,
  type TimeoutError,
  TransportError,
  toNetworkError,
} from '@extapi/core';

/** undici's defaults for each deadline: fetch does not say which value its dispatcher used. */
const UNDICI_DEFAULT_TIMEOUTS: NetworkTimeouts = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 300_000,
  bodyTimeoutMs: 300_000,
};

// Duck-typed, not `instanceof TypeError`: fetch's errors come from Node's own realm, which is not
// the caller's under jest or node:vm.
function isTypeError(error: unknown): error is { message: string; cause?: unknown } {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'TypeError'
  );
}

/**
 * The error a failed fetch (or a failed read of its body) rejects with: the caller's abort reason
 * when `ctx.scope` aborted, extapi errors as they are, undici's deadlines as {@link TimeoutError}
 * (phase `connect`, `headers` or `body`), fetch's refusal of stacked codings as `ERR_CONTENT_ENCODING`,
 * a corrupt compressed body as `ERR_CONTENT_DECODING`,
 * invalid input as `ERR_INVALID_REQUEST`, and network failures as {@link TransportError} with the
 * undici transport's normalised `code` (`ECONNRESET`, `ECONNREFUSED`, TLS codes kept). `cause` is
 * fetch's own error.
 * @example
 * try { return await fetch(url, init); } catch (error) { throw mapFetchError(error, ctx); }
 */
export function mapFetchError(error: unknown, ctx: Context): unknown {
  // fetch rejects with the reason itself, but a body read cut by the abort may surface as
  // `terminated`; callError gives the caller its own reason (or the client's TimeoutError) either way.
  return callError(error, ctx, fetchError);
}

/** What fetch threw (not an extapi error, the call not aborted) as an extapi error. */
function fetchError(error: unknown, info: ExtapiErrorOptions): unknown {
  if (!isTypeError(error)) {
    // A custom fetch may reject with anything; keep its code when it has one.
    return new TransportError(
      errorMessage(error) || 'Network error',
      errorCode(error) ?? 'ERR_NETWORK',
      info,
    );
  }
  const cause = error.cause;
  if (cause === undefined) {
    // Bun's fetch puts the system code on the TypeError itself (`ECONNREFUSED`, `ECONNRESET`).
    if (errorCode(error)?.startsWith('E')) return networkError(error, info);
    // `terminated` without a cause is a connection that ended early (Deno says it in words); any
    // other TypeError is fetch refusing its input (a header value, a body on GET), as undici's
    // UND_ERR_INVALID_ARG.
    if (error.message === 'terminated' || CUT_BODY.test(error.message)) {
      return new TransportError(`Connection reset: ${error.message}`, 'ECONNRESET', info);
    }
    if (error.message === 'fetch failed' || BROWSER_NETWORK_ERROR.test(error.message))
      return new TransportError('Network error', 'ERR_NETWORK', info);
    return new ExtapiError(`Invalid request: ${error.message}`, 'ERR_INVALID_REQUEST', info);
  }
  if (isExtapiError(cause)) return cause;
  const message = errorMessage(cause);
  // Deno's causes carry the operating system's words, not its code, after the full URL (which may
  // hold a secret in its query): keep the code and a message of our own.
  const named =
    errorCode(cause) === undefined
      ? SYSTEM_WORDS.find(([words]) => words.test(message))
      : undefined;
  if (named !== undefined)
    return networkError(Object.assign(new Error(named[2]), { code: named[1] }), info);
  if (errorCode(cause) === undefined && /content-encodings?/i.test(message)) {
    // fetch refuses more than 5 stacked codings itself (undici's CVE-2026-22036 fix): core's code.
    return new ExtapiError(message, 'ERR_CONTENT_ENCODING', info);
  }
  // The cause is undici's own error (fetch is undici): the same codes as the undici transport.
  return networkError(cause, info);
}

/** A network failure with a system or undici `code`, as the undici transport maps it. */
function networkError(error: unknown, info: ExtapiErrorOptions): unknown {
  return toNetworkError(error, info, UNDICI_DEFAULT_TIMEOUTS, {
    proxyAuthHint: 'check the proxy credentials of the ProxyAgent',
  });
}

/** Deno's message for a body cut by the connection closing (a TypeError without a cause). */
const CUT_BODY = /^error reading a body from connection/;

/**
 * A browser's TypeError for any network failure (refused, reset, a body cut, a CORS refusal), in
 * words of its own and on purpose without the reason: Chromium's, Firefox's and Safari's, and
 * Chromium's for a body read whose connection closed. A network failure, not a refused input.
 */
const BROWSER_NETWORK_ERROR =
  /^(Failed to fetch|NetworkError when attempting to fetch resource\.|Load failed|network error)$/;

/** Deno's words for the failures Node and Bun give a code to (`… Connection refused (os error 111)`). */
const SYSTEM_WORDS: [RegExp, string, string][] = [
  [/connection refused/i, 'ECONNREFUSED', 'connection refused'],
  [/connection reset/i, 'ECONNRESET', 'connection reset by peer'],
];
