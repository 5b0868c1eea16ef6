// Turns an undici or Node network error into extapi's error family with normalised codes.
// For transport authors: the undici and fetch backends (Node's fetch is undici too) both map through it.
import { ExtapiError, type ExtapiErrorOptions, TimeoutError, TransportError } from './errors.js';
import { isExtapiError } from './error-guards.js';
import type { Context } from './types.js';

/** The deadlines a transport ran with, for the `timeoutMs` of a {@link TimeoutError}. */
export interface NetworkTimeouts {
  /** The deadline for opening the connection (TCP, TLS, proxy tunnel). */
  connectTimeoutMs: number;
  /** The deadline for the response headers once the request is sent. */
  headersTimeoutMs: number;
  /** The longest silence allowed between two chunks of the response body. */
  bodyTimeoutMs: number;
}

/** What differs between transports in the errors {@link toNetworkError} builds. */
export interface NetworkErrorOptions {
  /**
   * Where the caller should look when a proxy answers 407, appended to the error message.
   * @default 'check the proxy credentials'
   */
  proxyAuthHint?: string;
}

// Node and undici codes for "the peer went away": one code for callers to switch on.
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

// undici's ProxyAgent words a refusal by the proxy as one of these; the status is what matters.
const PROXY_REFUSAL = /Proxy Authentication Required \((\d{3})\)|Proxy response \((\d{3})\)/;

/**
 * The string `code` of a Node or undici error, or of the first error of an AggregateError (Happy
 * Eyeballs fails with one error per address); `undefined` when there is none.
 * @example
 * errorCode(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })); // 'ECONNREFUSED'
 */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) ? errorCode(errors[0]) : undefined;
}

/**
 * The `message` of anything thrown, else its string form. Duck-typed rather than `instanceof Error`:
 * Node's own errors come from its realm, which is not the caller's under jest or node:vm.
 * @example
 * errorMessage(new Error('boom')); // 'boom'
 */
export function errorMessage(error: unknown): string {
  const message =
    typeof error === 'object' && error !== null
      ? (error as { message?: unknown }).message
      : undefined;
  return typeof message === 'string' ? message : String(error);
}

/**
 * For transport authors: the normalised codes both backends use. Maps an undici or Node network
 * error to an extapi error: a proxy's 407 as `ERR_PROXY_AUTH_REQUIRED` and other refusals as
 * `ERR_PROXY_CONNECT`, a TLS failure behind a tunnel by the code of its cause, undici's deadlines as
 * {@link TimeoutError} (phase `connect`, `headers` or `body`, `timeoutMs` from `timeouts`), a closed
 * dispatcher as `ERR_TRANSPORT_CLOSED`, `ERR_CONTENT_LENGTH_MISMATCH`, invalid input as
 * `ERR_INVALID_REQUEST`, a foreign abort as `ECONNABORTED`, zlib/brotli failures as
 * `ERR_CONTENT_DECODING`, `EPIPE`/`UND_ERR_SOCKET` as `ECONNRESET`, and anything else as a
 * {@link TransportError} keeping its own code (`ECONNREFUSED`, `ENOTFOUND`, TLS codes) or
 * `ERR_NETWORK`. The caller's abort and errors that are already extapi's are the caller's to check
 * first; `info` (method, URL, attempt, cause) goes on the error as it is.
 * @example
 * try { return await dispatcher.request(opts); }
 * catch (error) { throw toNetworkError(error, { method, url, attempt, cause: error }, timeouts); }
 */
export function toNetworkError(
  error: unknown,
  info: ExtapiErrorOptions,
  timeouts: NetworkTimeouts,
  options: NetworkErrorOptions = {},
): ExtapiError {
  let code = errorCode(error);
  let message = errorMessage(error);
  const proxyStatus = PROXY_REFUSAL.exec(message);
  if (proxyStatus && (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_ABORTED')) {
    // undici's ProxyAgent reports a refusal by the proxy as an invalid argument or an abort.
    const status = proxyStatus[1] ?? proxyStatus[2];
    return status === '407'
      ? new TransportError(
          `Proxy authentication required (407): ${options.proxyAuthHint ?? 'check the proxy credentials'}`,
          'ERR_PROXY_AUTH_REQUIRED',
          info,
        )
      : new TransportError(`The proxy refused the tunnel (${status})`, 'ERR_PROXY_CONNECT', info);
  }
  const inner =
    typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined;
  if (code === 'UND_ERR_PRX_TLS' && inner !== undefined && inner !== null) {
    // A TLS failure with the target behind a CONNECT tunnel: its own code (CERT_HAS_EXPIRED…) says more.
    code = errorCode(inner) ?? code;
    message = errorMessage(inner);
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new TimeoutError(timeouts.connectTimeoutMs, { ...info, phase: 'connect' });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new TimeoutError(timeouts.headersTimeoutMs, { ...info, phase: 'headers' });
    case 'UND_ERR_BODY_TIMEOUT':
      return new TimeoutError(timeouts.bodyTimeoutMs, { ...info, phase: 'body' });
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return new TransportError(`Transport is closed: ${message}`, 'ERR_TRANSPORT_CLOSED', info);
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return new TransportError(message, 'ERR_CONTENT_LENGTH_MISMATCH', info);
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      return new ExtapiError(`Invalid request: ${message}`, 'ERR_INVALID_REQUEST', info);
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      // Aborted by something else than the caller's signal (a closing dispatcher).
      return new TransportError(`Request aborted: ${message}`, 'ECONNABORTED', info);
  }
  if (code !== undefined && (code.startsWith('Z_') || code.startsWith('ERR__'))) {
    // zlib (Z_DATA_ERROR…) and brotli (ERR__ERROR_FORMAT…) codes: the body arrived but is corrupt.
    return new ExtapiError(
      `Cannot decode the response body: ${message}`,
      'ERR_CONTENT_DECODING',
      info,
    );
  }
  if (code !== undefined && RESET_CODES.has(code)) {
    return new TransportError(`Connection reset: ${message}`, 'ECONNRESET', info);
  }
  // Everything else keeps its code: ECONNREFUSED, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, HPE_* parser
  // errors and TLS codes such as CERT_HAS_EXPIRED, the codes people already search for.
  return new TransportError(message || 'Network error', code ?? 'ERR_NETWORK', info);
}

/**
 * For transport authors: the error a failed call rejects with, the same rule in every transport.
 * The call's abort reason when its scope aborted (the caller's own reason, or the client's
 * `TimeoutError`: a backend may surface the abort as a reset), an extapi error as it is, and anything
 * else through `map`, given the call's method, URL and attempt with the backend's error as `cause`.
 * @example
 * const mapMyError = (error: unknown, ctx: Context) =>
 *   callError(error, ctx, (cause, info) => toNetworkError(cause, info, timeouts));
 */
export function callError(
  error: unknown,
  ctx: Context,
  map: (error: unknown, info: ExtapiErrorOptions) => unknown,
): unknown {
  if (ctx.scope.aborted) return ctx.scope.reason;
  if (isExtapiError(error)) return error;
  const { method, url } = ctx.request;
  return map(error, { method, url, attempt: ctx.attempt, cause: error });
}
