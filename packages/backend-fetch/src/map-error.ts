// Turns what fetch throws (`TypeError: fetch failed` / `terminated` with a `cause`) into extapi errors.
// Used by the fetch transport only; the codes are the undici transport's, so callers see one set.
import {
  type Context,
  ExtapiError,
  isExtapiError,
  TimeoutError,
  TransportError,
} from '@extapi/core';

/** undici's defaults for each deadline: fetch does not say which value its dispatcher used. */
const UNDICI_DEFAULT_TIMEOUTS_MS = { connect: 10_000, headers: 300_000, body: 300_000 };

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

function messageOf(error: unknown): string {
  const message =
    typeof error === 'object' && error !== null
      ? (error as { message?: unknown }).message
      : undefined;
  return typeof message === 'string' ? message : String(error);
}

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
 * when `ctx.signal` aborted, extapi errors as they are, undici's deadlines as {@link TimeoutError}
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
  // `terminated`; the caller must see its own reason (or the client's TimeoutError) either way.
  if (ctx.signal.aborted) return ctx.signal.reason;
  if (isExtapiError(error)) return error;
  const info = {
    method: ctx.request.method,
    url: ctx.request.url,
    attempt: ctx.attempt,
    cause: error,
  };
  if (!isTypeError(error)) {
    // A custom fetch may reject with anything; keep its code when it has one.
    return new TransportError(
      messageOf(error) || 'Network error',
      codeOf(error) ?? 'ERR_NETWORK',
      info,
    );
  }
  const cause = error.cause;
  if (cause === undefined) {
    // `terminated` without a cause is a connection that ended early; any other TypeError is fetch
    // refusing its input (a header value, a body on GET), as undici's UND_ERR_INVALID_ARG.
    if (error.message === 'terminated') {
      return new TransportError('Connection reset: terminated', 'ECONNRESET', info);
    }
    if (error.message === 'fetch failed')
      return new TransportError('Network error', 'ERR_NETWORK', info);
    return new ExtapiError(`Invalid request: ${error.message}`, 'ERR_INVALID_REQUEST', info);
  }
  if (isExtapiError(cause)) return cause;
  let code = codeOf(cause);
  let message = messageOf(cause);
  const proxyStatus = /Proxy Authentication Required \((\d{3})\)|Proxy response \((\d{3})\)/.exec(
    message,
  );
  if (proxyStatus && (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_ABORTED')) {
    // undici's ProxyAgent (as a fetch dispatcher) reports a refusal by the proxy as an invalid
    // argument or an abort: the same codes as the undici transport.
    const status = proxyStatus[1] ?? proxyStatus[2];
    return status === '407'
      ? new TransportError(
          'Proxy authentication required (407): check the proxy credentials of the ProxyAgent',
          'ERR_PROXY_AUTH_REQUIRED',
          info,
        )
      : new TransportError(`The proxy refused the tunnel (${status})`, 'ERR_PROXY_CONNECT', info);
  }
  const inner = (cause as { cause?: unknown }).cause;
  if (code === 'UND_ERR_PRX_TLS' && inner !== undefined) {
    // A TLS failure with the target behind a CONNECT tunnel: its own code says more.
    code = codeOf(inner) ?? code;
    message = messageOf(inner);
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new TimeoutError(UNDICI_DEFAULT_TIMEOUTS_MS.connect, { ...info, phase: 'connect' });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new TimeoutError(UNDICI_DEFAULT_TIMEOUTS_MS.headers, { ...info, phase: 'headers' });
    case 'UND_ERR_BODY_TIMEOUT':
      return new TimeoutError(UNDICI_DEFAULT_TIMEOUTS_MS.body, { ...info, phase: 'body' });
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
    // zlib (Z_DATA_ERROR…) and brotli (ERR__ERROR_FORMAT…) codes: fetch got the body but cannot decode it.
    return new ExtapiError(
      `Cannot decode the response body: ${message}`,
      'ERR_CONTENT_DECODING',
      info,
    );
  }
  if (code !== undefined && RESET_CODES.has(code)) {
    return new TransportError(`Connection reset: ${message}`, 'ECONNRESET', info);
  }
  if (code === undefined && /content-encodings?/i.test(message)) {
    // fetch refuses more than 5 stacked codings itself (undici's CVE-2026-22036 fix): core's code.
    return new ExtapiError(message, 'ERR_CONTENT_ENCODING', info);
  }
  // Everything else keeps its code: ECONNREFUSED, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, HPE_* parser
  // errors and TLS codes such as CERT_HAS_EXPIRED, the codes people already search for.
  return new TransportError(message || 'Network error', code ?? 'ERR_NETWORK', info);
}
