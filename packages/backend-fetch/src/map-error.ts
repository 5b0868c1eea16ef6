// Turns what fetch throws (`TypeError: fetch failed` / `terminated` with a `cause`) into extapi errors.
// Used by the fetch transport at the end of the stack, so both backends report the same codes.
import {
  type Context,
  ExtapiError,
  isExtapiError,
  TimeoutError,
  TransportError,
} from '@extapi/core';

/** undici error codes (the `cause` of fetch's TypeError) and the normalized code each becomes. */
const CODES: Record<string, string> = {
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_CLOSED: 'ECONNRESET',
  UND_ERR_DESTROYED: 'ECONNRESET',
  EPIPE: 'ECONNRESET',
};

/** undici timeout codes and the deadline each reports. */
const TIMEOUT_PHASES: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
};

/** undici's defaults for each deadline, reported when fetch does not say which value applied. */
const TIMEOUT_DEFAULTS_MS: Record<string, number> = {
  connect: 10_000,
  headers: 300_000,
  body: 300_000,
};

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  // Happy eyeballs (autoSelectFamily) reports one AggregateError for all addresses tried.
  if (Array.isArray(errors)) return codeOf(errors[0]);
  return undefined;
}

function messageOf(error: unknown): string {
  const message =
    typeof error === 'object' && error !== null
      ? (error as { message?: unknown }).message
      : undefined;
  return typeof message === 'string' ? message : String(error);
}

// Not `instanceof TypeError`: fetch's errors come from Node's own realm (another one under jest or vm).
function causeOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const { name, cause } = error as { name?: unknown; cause?: unknown };
  return name === 'TypeError' && cause !== undefined ? cause : error;
}

/**
 * Maps an error from `fetch()` or from reading its body to the error the caller sees: the signal's
 * reason after an abort, a `TimeoutError` for undici's deadlines, the core's content-coding error,
 * else a `TransportError` with a normalized `code` (`ECONNREFUSED`, `ECONNRESET`, TLS codes kept).
 * extapi errors pass through unchanged.
 * @example
 * try { return await fetch(url, init); } catch (error) { throw mapFetchError(error, ctx); }
 */
export function mapFetchError(error: unknown, ctx: Context): unknown {
  // A caller's abort or a deadline: fetch already rejects with the reason, but a body read that
  // failed as the signal fired may surface as `terminated`; the reason is what the caller expects.
  if (ctx.signal.aborted) return ctx.signal.reason;
  if (isExtapiError(error)) return error;
  const { method, url } = ctx.request;
  // fetch wraps network failures in a TypeError whose `cause` holds the real error.
  const cause = causeOf(error);
  if (isExtapiError(cause)) return cause;
  const raw = codeOf(cause);
  const phase = raw === undefined ? undefined : TIMEOUT_PHASES[raw];
  if (phase !== undefined) {
    return new TimeoutError(TIMEOUT_DEFAULTS_MS[phase]!, { method, url, phase, cause: error });
  }
  if (raw === undefined && /content-encodings?/i.test(messageOf(cause))) {
    // fetch refuses stacked codings itself (undici's CVE-2026-22036 fix); keep core's error code.
    return new ExtapiError(messageOf(cause), 'ERR_CONTENT_ENCODING', { method, url, cause: error });
  }
  const code = raw === undefined ? 'ECONNRESET' : (CODES[raw] ?? raw);
  return new TransportError(`Request failed: ${messageOf(cause)}`, code, {
    method,
    url,
    cause: error,
  });
}
