// bearerAuth(): sets Authorization: Bearer <token> on every pass and refreshes the token once on a 401.
// After retry() it asks for a token per attempt; the single-flight refresh is shared by the instance.
import {
  defineMiddleware,
  ConfigError,
  type Context,
  type HttpResponse,
  isReplayableBody,
  markSensitiveHeader,
  type Middleware,
  type Next,
  type OptionSpec,
  option,
  readOptions,
} from '@extapi/core';

// With refreshOn401, outside retry() one token serves every attempt and a 401 re-runs the loop.
const BEARER_AUTH_PLACEMENT = {
  name: 'bearerAuth',
  placement: {
    per: 'attempt' as const,
    reason:
      'every attempt reuses the token read once per call and a 401 refresh re-runs the whole retry loop',
  },
};

/** Returns the token to send; `refresh: true` asks for a new one because the last was refused. */
export type GetToken = (options: { refresh: boolean }) => string | Promise<string>;

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /** On a 401, fetch a fresh token once and re-send once. @default true */
  refreshOn401?: boolean;
}

/** The defaults of {@link BearerAuthOptions}. */
export const DEFAULT_BEARER_AUTH_OPTIONS = {
  /** @see BearerAuthOptions.refreshOn401 */
  refreshOn401: true,
};

const SPEC = {
  refreshOn401: option.boolean(DEFAULT_BEARER_AUTH_OPTIONS.refreshOn401),
} satisfies OptionSpec<BearerAuthOptions>;

/**
 * Validates {@link BearerAuthOptions} (own properties only, unknown ones refused with the nearest
 * known name); throws `ConfigError` naming the option and the value.
 * @example
 * resolveBearerAuthOptions({}).refreshOn401; // true
 */
export function resolveBearerAuthOptions(
  options: BearerAuthOptions = {},
): Required<BearerAuthOptions> {
  return readOptions('bearerAuth()', options, SPEC);
}

// The token (or a string passed where getToken belongs) never goes into an error: it is a credential.
const checkGetToken = option.secret(option.fn<GetToken>());
const checkToken = option.secret((token, name): string => {
  if (typeof token !== 'string' || token === '' || /[\r\n\0]/.test(token)) {
    throw new ConfigError(name, token, 'expected a non-empty token string without CR, LF or NUL');
  }
  return token;
});

const NO_REFRESH = Object.freeze({ refresh: false });

function setAuthorization(ctx: Context, value: string): void {
  ctx.request.headers.set('authorization', value);
  markSensitiveHeader(ctx, 'authorization');
}

/**
 * Sets `Authorization: Bearer <token>` on every pass, with the token from `getToken({ refresh:
 * false })` (cache it there), and marks the header sensitive so a redirect to another origin drops it.
 * On a 401 with `refreshOn401` it discards that response, gets a fresh token with `getToken({
 * refresh: true })` and re-sends once (only when the body can be replayed); a second 401 is returned
 * as is. A static token is `bearerAuth(() => token, { refreshOn401: false })`.
 *
 * Per pass: one `getToken` call. Shared by every call through this instance: the refresh in flight
 * and the last refreshed token, so 401s that arrive together (or while a refresh runs, or for the
 * token a refresh has since replaced) cause one refresh in all.
 * @example
 * const auth = bearerAuth(async ({ refresh }) => (refresh ? tokens.renew() : tokens.current()));
 * createClient([retry(), auth, undiciTransport()]);
 */
export function bearerAuth(getToken: GetToken, options: BearerAuthOptions = {}): Middleware {
  if (checkGetToken(getToken, 'getToken') === undefined) {
    throw new ConfigError('getToken', undefined, 'expected a function ({ refresh }) => token');
  }
  const { refreshOn401 } = resolveBearerAuthOptions(options);
  let refreshing: Promise<string> | undefined;
  /** The last token that passed checkToken(). */
  let lastToken: string | undefined;
  let refreshed: string | undefined;
  // The header value of the last token sent: a cached token is sent on nearly every call, and
  // building `Bearer <token>` again would be a new string each time.
  let headerToken: string | undefined;
  let headerValue = '';

  function setToken(ctx: Context, token: string): void {
    if (token !== headerToken) {
      headerToken = token;
      headerValue = `Bearer ${token}`;
    }
    setAuthorization(ctx, headerValue);
  }

  function refresh(): Promise<string> {
    refreshing ??= (async () => {
      try {
        refreshed = checkToken(await getToken({ refresh: true }), 'getToken()');
        return refreshed;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  async function refreshAndResend(ctx: Context, next: Next, token: string, response: HttpResponse) {
    await response.discard();
    // Join the refresh in flight; or, if one finished since this request went out with an older
    // token, use its result; only otherwise start one. So N concurrent 401s cause one refresh.
    const fresh =
      refreshing || refreshed === undefined || refreshed === token
        ? await ctx.scope.race(refresh())
        : refreshed;
    const again = ctx.clone();
    setToken(again, fresh);
    return next(again);
  }

  function send(ctx: Context, next: Next, token: string): Promise<HttpResponse> {
    setToken(ctx, token);
    if (!refreshOn401 || !isReplayableBody(ctx.request.body)) return next(ctx);
    return next(ctx).then((response) =>
      response.status === 401 ? refreshAndResend(ctx, next, token, response) : response,
    );
  }

  return defineMiddleware(
    // Not async: a token getter that answers at once (a cached token) costs no promise turn.
    function bearerAuth(ctx: Context, next: Next): Promise<HttpResponse> {
      const got = getToken(NO_REFRESH);
      // A token is checked once, not on every call that gets it again (nearly all of them).
      if (got === lastToken) return send(ctx, next, got);
      if (typeof got === 'string') {
        lastToken = checkToken(got, 'getToken()');
        return send(ctx, next, got);
      }
      return Promise.resolve(got).then((token) => send(ctx, next, checkToken(token, 'getToken()')));
    },
    // A static token (no refresh) may sit anywhere; a refreshing one belongs inside retry().
    refreshOn401 ? BEARER_AUTH_PLACEMENT : { name: 'bearerAuth' },
  );
}
