// The client's options: their type, defaults and the one place they are checked (createClient, extend).
// Also the header helpers the client and each call use to read `headers` options safely.
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { ClientHeaders } from './pass-headers.js';
import { type OptionSpec, option, readOptions } from './options.js';
import { DEFAULT_SENSITIVE_HEADERS, isSensitiveHeader, REDACTED } from './redact.js';
import type { RedirectMode } from './redirect.js';
import { type BaseUrl, parseBaseUrl } from './url.js';

// The global HeadersInit exists only with the DOM lib; users on @types/node alone have Headers but
// not HeadersInit, so the published declarations must not name it.
type HeadersInit = ConstructorParameters<typeof Headers>[0];

/** Options of {@link createClient}. Every field is optional. */
export interface ClientOptions {
  /** Relative request URLs are appended to it (`/items` on `https://api.x/v1` → `https://api.x/v1/items`). */
  baseUrl?: string | URL;
  /** Headers sent with every call. */
  headers?: HeadersInit;
  /** A deadline for every call in ms; `0` means none. @default 0 */
  timeoutMs?: number;
  /** @default true */
  readBody?: boolean;
  /** `follow` redirects, hand them back (`manual`), or fail on them (`error`). @default 'follow' */
  redirect?: RedirectMode;
  /** @default 5 */
  maxRedirects?: number;
  /**
   * Header names dropped when a redirect leaves the origin, in addition to the default list
   * (`authorization`, `proxy-authorization`, `cookie`, `x-api-key`, …), which always applies.
   * @default []
   */
  sensitiveHeaders?: string[];
  /** Allow absolute URLs to other origins than `baseUrl`. @default false */
  allowAbsoluteUrls?: boolean;
  /** Where the client warns about likely mistakes. */
  logger?: Logger;
}

/** The defaults of {@link ClientOptions}. */
export const DEFAULT_CLIENT_OPTIONS = {
  /** @see ClientOptions.timeoutMs */
  timeoutMs: 0,
  /** @see ClientOptions.readBody */
  readBody: true,
  /** @see ClientOptions.redirect */
  redirect: 'follow' as RedirectMode,
  /** @see ClientOptions.maxRedirects */
  maxRedirects: 5,
  /** @see ClientOptions.sensitiveHeaders */
  sensitiveHeaders: [] as readonly string[],
  /** @see ClientOptions.allowAbsoluteUrls */
  allowAbsoluteUrls: false,
};

export const REDIRECT_MODES = ['follow', 'manual', 'error'] as const;

/**
 * A bad header name or value, as a ConfigError. The TypeError that Headers throws quotes the value,
 * so it is kept as `cause` only when the header is not a credential.
 */
function badHeader(
  option: string,
  name: string,
  value: unknown,
  cause: unknown,
  sensitive?: readonly string[],
) {
  const secret = isSensitiveHeader(name, sensitive && new Set(sensitive));
  return new ConfigError(
    `${option}.${name}`,
    secret ? REDACTED : value,
    'invalid header name or value (CR, LF or NUL?)',
    secret ? {} : { cause },
  );
}

/** A plain object (not Headers, not an array): read as a record of own keys. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Headers) &&
    !Array.isArray(value)
  );
}

/**
 * Sets `init` on `headers`. In a record (own keys only, so a polluted Object.prototype injects
 * nothing) a `null` or `undefined` value removes the header.
 */
export function setHeaders(
  headers: Headers,
  option: string,
  init: unknown,
  sensitive?: readonly string[],
) {
  if (isRecord(init)) {
    for (const name of Object.keys(init)) {
      const value = init[name];
      try {
        if (value === undefined || value === null) headers.delete(name);
        else headers.set(name, String(value));
      } catch (cause) {
        throw badHeader(option, name, value, cause, sensitive);
      }
    }
    return headers;
  }
  let list: Headers;
  try {
    list = new Headers(init as HeadersInit | undefined);
  } catch {
    // No cause and no value: the TypeError quotes the offending value, which may be a credential.
    throw new ConfigError(option, REDACTED, 'invalid header name or value (CR, LF or NUL?)');
  }
  for (const [name, value] of list) headers.set(name, value);
  return headers;
}

const CLIENT_SPEC = {
  baseUrl: (value: unknown) => (value === undefined ? undefined : parseBaseUrl(value)),
  headers: (value: unknown) => value,
  timeoutMs: option.ms({ default: DEFAULT_CLIENT_OPTIONS.timeoutMs }),
  readBody: option.boolean(DEFAULT_CLIENT_OPTIONS.readBody),
  redirect: option.oneOf(REDIRECT_MODES, DEFAULT_CLIENT_OPTIONS.redirect),
  maxRedirects: option.integer({ default: DEFAULT_CLIENT_OPTIONS.maxRedirects }),
  sensitiveHeaders: option.array(option.string<never>(), DEFAULT_CLIENT_OPTIONS.sensitiveHeaders),
  allowAbsoluteUrls: option.boolean(DEFAULT_CLIENT_OPTIONS.allowAbsoluteUrls),
  logger: option.logger<Logger>(),
} satisfies OptionSpec<ClientOptions>;

/** {@link ClientOptions} checked and filled in, once per client. */
export interface ResolvedClientOptions {
  base: BaseUrl | undefined;
  /** Read-only: every call reads them in place until it writes its own. */
  headers: ClientHeaders | undefined;
  timeoutMs: number;
  readBody: boolean;
  redirect: RedirectMode;
  maxRedirects: number;
  /** The default credential headers and the client's own, lower-cased. */
  sensitiveHeaders: string[];
  /** The same names as a set, built once and shared by every call (never changed). */
  sensitiveSet: ReadonlySet<string>;
  allowAbsoluteUrls: boolean;
  logger: Logger | undefined;
}

/** Checks {@link ClientOptions} once (own keys only, unknown keys refused); throws `ConfigError`. */
export function resolveClientOptions(options: ClientOptions | undefined): ResolvedClientOptions {
  const o = readOptions('createClient()', options, CLIENT_SPEC);
  // The client's list adds to the defaults; it never replaces them.
  const sensitive = [
    ...new Set([...DEFAULT_SENSITIVE_HEADERS, ...o.sensitiveHeaders.map((h) => h.toLowerCase())]),
  ];
  return {
    ...o,
    base: o.baseUrl,
    headers:
      o.headers === undefined
        ? undefined
        : new ClientHeaders(setHeaders(new Headers(), 'headers', o.headers, sensitive)),
    sensitiveHeaders: sensitive,
    sensitiveSet: new Set(sensitive),
  };
}
