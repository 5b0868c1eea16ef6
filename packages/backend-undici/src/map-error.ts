// Turns undici and Node network errors into extapi's error family with normalised codes.
// Used by the undici transport only; the fetch transport maps its own errors to the same codes.
import { ExtapiError, isExtapiError, TimeoutError, TransportError } from '@extapi/core';
import type { Context } from '@extapi/core';

/** The deadlines the transport was built with, for the `timeoutMs` of a {@link TimeoutError}. */
export interface UndiciTimeouts {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

// Node and undici codes for "the peer went away": one code for callers to switch on.
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy Eyeballs (autoSelectFamily) fails with an AggregateError of one error per address.
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) ? codeOf(errors[0]) : undefined;
}

/**
 * The error a failed undici call rejects with: the caller's abort reason when `ctx.signal` aborted,
 * extapi errors as they are, timeouts as {@link TimeoutError} (phase `connect`, `headers` or `body`),
 * network failures as {@link TransportError} with a normalised `code`. `cause` is the original error.
 * @example
 * try { return await dispatcher.request(opts); } catch (error) { throw mapUndiciError(error, ctx, timeouts); }
 */
export function mapUndiciError(error: unknown, ctx: Context, timeouts: UndiciTimeouts): unknown {
  if (ctx.signal.aborted) return ctx.signal.reason;
  if (isExtapiError(error)) return error;
  const info = {
    method: ctx.request.method,
    url: ctx.request.url,
    attempt: ctx.attempt,
    cause: error,
  };
  let code = codeOf(error);
  let message = error instanceof Error ? error.message : String(error);
  const proxyStatus = /Proxy Authentication Required \((\d{3})\)|Proxy response \((\d{3})\)/.exec(
    message,
  );
  if (proxyStatus && (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_ABORTED')) {
    // undici's ProxyAgent reports a refusal by the proxy as an invalid argument or an abort.
    const status = proxyStatus[1] ?? proxyStatus[2];
    return status === '407'
      ? new TransportError(
          'Proxy authentication required (407): check the proxy credentials (proxy URL or proxyAuth)',
          'ERR_PROXY_AUTH_REQUIRED',
          info,
        )
      : new TransportError(`The proxy refused the tunnel (${status})`, 'ERR_PROXY_CONNECT', info);
  }
  if (code === 'UND_ERR_PRX_TLS' && error instanceof Error && error.cause) {
    // A TLS failure with the target behind a CONNECT tunnel: its own code (CERT_HAS_EXPIRED…) says more.
    code = codeOf(error.cause) ?? code;
    message = error.cause instanceof Error ? error.cause.message : message;
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
