// Redaction of secrets in URLs, headers and named fields: the ONE list of what is secret, used by
// errors, logging, metrics, tracing and the redirect step, so no sink forgets what another hides.

/**
 * Headers that carry credentials: their values never appear in logs, errors or telemetry, and
 * the redirect step never sends them to another origin. Lower-case.
 */
export const DEFAULT_SENSITIVE_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'cookie2',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-access-token',
  'private-token',
  'x-goog-api-key',
  'x-amz-security-token',
]);

/** The same list as {@link DEFAULT_SENSITIVE_HEADERS} (its earlier name). */
export const DEFAULT_REDACT_HEADERS: readonly string[] = DEFAULT_SENSITIVE_HEADERS;

/** What stands in for a redacted value. */
export const REDACTED = '[REDACTED]';

const SENSITIVE = new Set(DEFAULT_SENSITIVE_HEADERS);

/**
 * Whether a header carries a credential: one of {@link DEFAULT_SENSITIVE_HEADERS}, or one of
 * `extra` (any letter case in `name`; `extra` holds lower-case names, e.g. `ctx.sensitiveHeaders`).
 * @example
 * isSensitiveHeader('X-Goog-Api-Key'); // true
 * isSensitiveHeader('x-partner-secret', new Set(['x-partner-secret'])); // true
 */
export function isSensitiveHeader(name: string, extra?: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  return SENSITIVE.has(lower) || extra?.has(lower) === true;
}

// Names of query parameters, URL fragment or path parameters and body fields that carry secrets:
// anything holding token, key, secret, password, passphrase, pwd, signature, credential, session,
// assertion (client_assertion), authorization or cookie; and exactly pass, sig, auth, jwt, sid,
// code (OAuth's authorization code) or otp.
const SECRET_NAME =
  /token|key|secret|passw|passphrase|pwd|signature|credential|session|assertion|authori[sz]ation|cookie|^(?:pass|sig|auth|jwt|sid|code|otp)$/i;

/**
 * Whether a query parameter, fragment or path parameter, or body field with this name holds a
 * secret (`token`, `api_key`, `password`, `code`, `authorization`…), or is one of `extra`
 * (lower-case names). The sensitive header names count too: an echoed `"authorization"` is one.
 * @example
 * isSecretName('access_token'); // true
 * isSecretName('page'); // false
 */
export function isSecretName(name: string, extra?: ReadonlySet<string>): boolean {
  return SECRET_NAME.test(name) || isSensitiveHeader(name, extra);
}

/** The same test as {@link isSecretName} (its earlier name). */
export const isSecretQueryName: (name: string, extra?: ReadonlySet<string>) => boolean =
  isSecretName;

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

// `name=value` after the start, `?`, `&` or `;` (query strings, OAuth's implicit-flow fragments,
// SPA routes like `#/cb?token=…`); and `;name=value` path parameters, whose value ends at `/`.
const PARAM = /(^|[?&;])([^=&;?#]+)=([^&;#]*)/g;
const PATH_PARAM = /;([^=;/?#]+)=([^;/?#]*)/g;

function redactParams(text: string, extra?: ReadonlySet<string>): string {
  return text.replace(PARAM, (whole, lead: string, name: string) =>
    isSecretName(decodeName(name), extra) ? `${lead}${name}=${REDACTED}` : whole,
  );
}

/**
 * A path with secret `;name=value` parameters redacted (`/v1;api_key=…/items`), for labels and
 * attributes built from a path alone.
 * @example
 * redactPath('/v1;api_key=k/items'); // '/v1;api_key=[REDACTED]/items'
 */
export function redactPath(pathname: string, extra?: ReadonlySet<string>): string {
  if (!pathname.includes(';')) return pathname;
  return pathname.replace(PATH_PARAM, (whole, name: string) =>
    isSecretName(decodeName(name), extra) ? `;${name}=${REDACTED}` : whole,
  );
}

/**
 * A URL as text with userinfo removed and secret values replaced by `[REDACTED]` in the query
 * (`?token=`, `&api_key=`, `;sig=`), the fragment (`#access_token=`) and path parameters
 * (`/a;jwt=…`). `extraQuery` adds lower-case names to redact. A string that is not a URL is
 * returned cut at `?` and `#`, with any userinfo removed.
 * @example
 * redactUrl('https://u:p@api.test/a?token=t&page=1'); // 'https://api.test/a?token=[REDACTED]&page=1'
 */
export function redactUrl(input: string | URL, extraQuery?: ReadonlySet<string>): string {
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : input;
  } catch {
    const text = String(input).replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
    const cut = text.search(/[?#]/);
    return cut === -1 ? text : `${text.slice(0, cut)}${text[cut]}${REDACTED}`;
  }
  if (url.username !== '' || url.password !== '') {
    url = new URL(url.href);
    url.username = '';
    url.password = '';
  }
  const { href, pathname, search, hash } = url;
  if (search === '' && hash === '' && !pathname.includes(';')) return href;
  // Rebuilt from the serialised parts, so that the other parameters keep their exact spelling.
  const prefix = href.slice(0, href.length - pathname.length - search.length - hash.length);
  return (
    prefix +
    redactPath(pathname, extraQuery) +
    redactParams(search, extraQuery) +
    (hash === '' ? '' : `#${redactParams(hash.slice(1), extraQuery)}`)
  );
}

/**
 * Headers as a plain object with sensitive values replaced by `[REDACTED]`.
 * `redact` holds lower-case names; {@link DEFAULT_SENSITIVE_HEADERS} always apply.
 * @example
 * redactHeaders(new Headers({ authorization: 'Bearer t' })); // { authorization: '[REDACTED]' }
 */
export function redactHeaders(
  headers: Headers,
  redact: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of headers) {
    out[name] = isSensitiveHeader(name, redact) ? REDACTED : value;
  }
  return out;
}

// A URL in free text (error messages from third-party code may quote the request URL).
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * Free text (an error message, a stack) with every URL in it passed through {@link redactUrl}.
 * @example
 * redactText('fetch failed: https://u:p@x.test/?token=t'); // 'fetch failed: https://x.test/?token=[REDACTED]'
 */
export function redactText(text: string, extraQuery?: ReadonlySet<string>): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url, extraQuery));
}
