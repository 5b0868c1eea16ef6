// headers(): sets request headers from a record or a (sync or async) function, on every pass.
// After retry() it runs per attempt, on that attempt's own copy of the headers.
import {
  defineMiddleware,
  ConfigError,
  type Context,
  type HttpResponse,
  isSensitiveHeader,
  type Middleware,
  type Next,
  REDACTED,
} from '@extapi/core';

/** What {@link headers} applies: a record of values, or a function that edits the headers in place. */
export type HeadersPatch =
  | Readonly<Record<string, string>>
  | ((headers: Headers, ctx: Context) => void | Promise<void>);

/**
 * Validates a patch once: names and values must be valid header fields (own keys only). The value
 * of a credential header (`Authorization`, `Cookie`, `X-Api-Key`…) is never quoted in the error.
 * @example
 * resolveHeadersPatch({ accept: 'application/json' }); // [['accept', 'application/json']]
 */
export function resolveHeadersPatch(
  patch: HeadersPatch,
): [string, string][] | ((headers: Headers, ctx: Context) => void | Promise<void>) {
  if (typeof patch === 'function') return patch;
  if (
    typeof patch !== 'object' ||
    patch === null ||
    Array.isArray(patch) ||
    patch instanceof Headers
  ) {
    throw new ConfigError('patch', patch, 'expected a record of header values or a function');
  }
  const entries: [string, string][] = [];
  // Own keys only: a polluted Object.prototype must not inject headers.
  for (const name of Object.keys(patch)) {
    const value = patch[name];
    // A credential (Authorization, Cookie, X-Api-Key…) is never quoted, nor is an error that quotes it.
    const secret = isSensitiveHeader(name);
    const shown = secret ? REDACTED : value;
    if (typeof value !== 'string') {
      throw new ConfigError(`patch.${name}`, shown, 'expected a string header value');
    }
    try {
      new Headers().set(name, value);
    } catch (cause) {
      throw new ConfigError(
        `patch.${name}`,
        shown,
        'invalid header name or value (CR, LF or NUL?)',
        secret ? {} : { cause },
      );
    }
    entries.push([name, value]);
  }
  return entries;
}

/**
 * Sets request headers on every pass: a record (values replace, never append), or a function
 * `(headers, ctx) => void | Promise<void>` that edits `ctx.request.headers` (the successor of
 * `AddHeadersAddon`). After `retry()` it runs once per attempt, each time on fresh headers.
 *
 * Per pass: the record is applied or the function called; no state is shared between calls.
 * @example
 * createClient([
 *   headers({ 'user-agent': 'billing/1.0', accept: 'application/json' }),
 *   retry(),
 *   headers(async (h, ctx) => h.set('x-request-attempt', String(ctx.attempt))),
 *   undiciTransport(),
 * ]);
 */
export function headers(patch: HeadersPatch): Middleware {
  const resolved = resolveHeadersPatch(patch);

  if (typeof resolved === 'function') {
    const edit = async function headers(ctx: Context, next: Next): Promise<HttpResponse> {
      const pending = resolved(ctx.request.headers, ctx);
      if (pending) await pending;
      return next(ctx);
    };
    return defineMiddleware(edit, { name: 'headers' });
  }
  // Not async: nothing to wait for, so no promise of its own (a throw still reaches the layer
  // above as a rejection, through compose).
  const set = function headers(ctx: Context, next: Next): Promise<HttpResponse> {
    const target = ctx.request.headers;
    for (const [name, value] of resolved) target.set(name, value);
    return next(ctx);
  };
  return defineMiddleware(set, { name: 'headers' });
}
