// Request URLs: parsing with safe error messages, joining onto a baseUrl, and the query option.
// The client's first step for every call; nothing here quotes a credential.
import { ConfigError } from './errors.js';
import { redactUrl } from './redact.js';

/** A value allowed in `query`: arrays repeat the key, `undefined` is dropped. */
export type QueryValue = string | number | boolean | bigint | null | undefined;

/** The `query` request option. */
export type Query = Record<string, QueryValue | readonly QueryValue[]> | URLSearchParams;

// C0 controls and DEL: the URL parser silently drops CR, LF and tab and encodes NUL, which would turn
// an injection attempt into a different request instead of refusing it.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const SCHEME_OR_AUTHORITY = /^([a-z][a-z0-9+.-]*:|[/\\]{2})/i;

/**
 * A URL for an error message, even one that does not parse: everything up to the last `@` of the
 * authority goes (a password may hold an unencoded `/`, `#` or `@`), then the fragment, then secret
 * query values.
 */
export function describeUrl(value: string | URL): string {
  let text = String(value);
  if (SCHEME_OR_AUTHORITY.test(text) && text.includes('@')) {
    text = text.replace(/^([a-z][a-z0-9+.-]*:)?[/\\]*.*@/is, '$1//');
  }
  const hash = text.indexOf('#');
  if (hash !== -1) text = text.slice(0, hash);
  return redactUrl(text);
}

/**
 * Parses an http(s) URL, refusing control characters and other schemes. The parser's own error is
 * not kept as `cause`: it quotes the input, password included.
 */
export function parseHttpUrl(option: string, value: unknown, base?: string): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new ConfigError(option, value, 'expected a URL string or a URL');
  }
  if (typeof value === 'string' && CONTROL.test(value)) {
    throw new ConfigError(option, describeUrl(value), 'control characters (CR, LF, NUL…) in a URL');
  }
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new ConfigError(option, describeUrl(value), 'expected a valid URL');
  }
  if (!isHttpUrl(url)) {
    throw new ConfigError(option, describeUrl(value), 'only http: and https: URLs are allowed');
  }
  return url;
}

/**
 * Whether `url` is http: or https:, read off its `href` (the `protocol` getter allocates a string
 * on every read; `href` is the string the URL already holds, its scheme in lower case).
 */
export function isHttpUrl(url: URL): boolean {
  return isHttpHref(url.href);
}

/** Whether a serialised URL (an `href`) is http: or https:. */
export function isHttpHref(href: string): boolean {
  return href.startsWith('http:') || href.startsWith('https:');
}

// The origin returned last: calls of a client mostly go to one origin, whose string is then reused
// as it is (no new string per call, and undici finds its pool by a key it has hashed before).
let lastOrigin = '';

/**
 * The origin of an http(s) URL without userinfo (`https://api.example:8443`), as `url.origin`
 * gives it, but the same string as the last call's when it is on the same origin: `url.origin`
 * builds a new one on every read. The authority of such an href is its origin's, up to the path's
 * first `/`.
 * @example
 * originOf(new URL('https://api.example/v1/items?page=2')); // 'https://api.example'
 */
export function originOf(url: URL): string {
  const { href } = url;
  const last = lastOrigin;
  if (href.startsWith(last) && href.charCodeAt(last.length) === 0x2f && last !== '') return last;
  if (url.username !== '' || url.password !== '' || !isHttpUrl(url)) return url.origin;
  lastOrigin = url.origin;
  return lastOrigin;
}

/** A request's URL as text: what a transport sends and what a check compares, without a `URL` object. */
export interface UrlText {
  /** The serialised URL, as `url.href` gives it. */
  readonly href: string;
  /** Its origin, as {@link originOf} gives it. */
  readonly origin: string;
  /** Path and query, as sent on the request line (`/v1/items?page=2`); never a fragment. */
  readonly path: string;
}

/**
 * The text of a parsed URL. The path is what follows the origin in the href, up to a fragment; an
 * href with userinfo (set by a middleware) does not start with its origin and is read the long way.
 */
export function urlText(url: URL): UrlText {
  const origin = originOf(url);
  const { href } = url;
  if (!href.startsWith(origin)) return { href, origin, path: url.pathname + url.search };
  const hash = href.indexOf('#', origin.length);
  return {
    href,
    origin,
    path: hash === -1 ? href.slice(origin.length) : href.slice(origin.length, hash),
  };
}

// The origin of an http(s) URL the WHATWG parser gives back as it is: lower-case scheme and host,
// no userinfo, a port without leading zeros. Groups: 1 the scheme, 2 the host, 3 its last label,
// 4 the port.
const PLAIN_ORIGIN = /^(https?):\/\/((?:[a-z0-9-]+\.)*([a-z0-9-]+))(?::([1-9]\d{0,4}))?(?=\/)/;
// A last label the parser reads as a number, and the one form of an IPv4 address it keeps as is.
const NUMBER_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.|$)){4}$/;
// A path and query of characters the parser never encodes or rewrites, without dot segments (also
// percent-encoded), and without a fragment.
const PLAIN_PATH = /^(?!.*(?:\/\.|%2e))\/[\w\-.~!$&'()*+,;=:@%/]*(?:\?[\w\-.~!$&()*+,;=:@%/?]*)?$/i;

/** The origin that starts `input` when the parser keeps it as it is, else `undefined`. */
function plainOrigin(input: string): string | undefined {
  const match = PLAIN_ORIGIN.exec(input);
  if (match === null || match[2]!.includes('xn--')) return undefined; // punycode: decoded, checked
  const [origin, scheme, host, last, port] = match;
  if (NUMBER_LABEL.test(last!) && !DOTTED_QUAD.test(host!)) return undefined;
  if (port !== undefined && (Number(port) > 65535 || port === (scheme === 'http' ? '80' : '443')))
    return undefined;
  return origin;
}

// The last answer of plainUrl: a client that calls one URL over and over checks it once.
let lastPlain: UrlText | undefined;

/**
 * The text of `input` when it is an absolute http(s) URL that parses to itself (most calls'
 * URLs), found without making a `URL`; `undefined` for any other input, which takes the parser.
 * An origin seen last (by {@link originOf} too) is not checked again: a URL's own origin is in
 * the form the parser gives.
 * @example
 * plainUrl('https://api.example/v1/items?page=2'); // { origin: 'https://api.example', path: '/v1/items?page=2', … }
 */
export function plainUrl(input: string): UrlText | undefined {
  if (input === lastPlain?.href) return lastPlain;
  let origin: string | undefined = lastOrigin;
  if (origin === '' || !input.startsWith(origin) || input.charCodeAt(origin.length) !== 0x2f) {
    origin = plainOrigin(input);
    if (origin === undefined) return undefined;
  }
  const path = input.slice(origin.length);
  if (!PLAIN_PATH.test(path)) return undefined;
  lastOrigin = origin;
  lastPlain = { href: input, origin, path };
  return lastPlain;
}

/** A parsed `baseUrl`: the prefix that relative paths join, and the query every call carries. */
export interface BaseUrl {
  /** The base itself (fragment removed). */
  url: URL;
  /** `href` without query, fragment and trailing slashes: relative paths are appended to it. */
  prefix: string;
  /** The path relative calls must stay under (`/api/v1`), without its trailing slash. */
  path: string;
  /** The base's query (`?tenant=7`) or `''`: merged before each call's own query. */
  search: string;
}

/** Parses the `baseUrl` option; its fragment is dropped (fragments are never sent). */
export function parseBaseUrl(value: unknown): BaseUrl {
  const url = parseHttpUrl('baseUrl', value);
  url.hash = '';
  const search = url.search;
  const bare = new URL(url.href);
  bare.search = '';
  return {
    url,
    prefix: bare.href.replace(/\/+$/, ''),
    path: bare.pathname.replace(/\/+$/, ''),
    search,
  };
}

/**
 * The URL of a call. Without a base, `input` must be absolute. With one, a relative path is
 * appended to the base's path (`/items` on `…/v1?tenant=7` is `…/v1/items?tenant=7`) and may not
 * climb out of it with dot segments (`/../admin`, `/%2e%2e/admin`): that is a `ConfigError`. An
 * absolute or protocol-relative URL must keep the base's origin unless `allowAbsoluteUrls`.
 */
export function resolveUrl(
  input: string | URL,
  base: BaseUrl | undefined,
  allowAbsoluteUrls: boolean,
): URL {
  if (base === undefined) return parseHttpUrl('url', input);
  const text = String(input);
  if (input instanceof URL || SCHEME_OR_AUTHORITY.test(text)) {
    const url = parseHttpUrl('url', text, base.url.href);
    if (url.origin !== base.url.origin && !allowAbsoluteUrls) {
      throw new ConfigError(
        'url',
        describeUrl(text),
        `another origin than baseUrl ${base.url.origin} (set allowAbsoluteUrls to allow)`,
      );
    }
    return url;
  }
  if (typeof input !== 'string')
    throw new ConfigError('url', input, 'expected a URL string or a URL');
  const path = text === '' || text.startsWith('/') || text.startsWith('?') ? text : `/${text}`;
  const url = parseHttpUrl('url', base.prefix + path);
  if (base.path !== '' && url.pathname !== base.path && !url.pathname.startsWith(`${base.path}/`)) {
    throw new ConfigError(
      'url',
      describeUrl(text),
      `leaves baseUrl's path ${base.path} (dot segments); pass an absolute URL on the same origin to do that deliberately`,
    );
  }
  if (base.search !== '') {
    url.search = url.search === '' ? base.search : `${base.search}&${url.search.slice(1)}`;
  }
  return url;
}

/**
 * {@link resolveUrl}'s answer as text, for a string it would take to a URL that parses to itself
 * (see {@link plainUrl}): an absolute URL without a base, or a path that starts with one `/`
 * joined onto a base without a query. `undefined` for anything else, which takes resolveUrl. A
 * plain URL has no dot segment, so a joined path cannot leave the base's.
 */
export function resolvePlainUrl(
  input: string | URL,
  base: BaseUrl | undefined,
): UrlText | undefined {
  if (typeof input !== 'string') return undefined;
  if (base === undefined) return plainUrl(input);
  const second = input.charCodeAt(1);
  if (base.search !== '' || input.charCodeAt(0) !== 0x2f || second === 0x2f || second === 0x5c)
    return undefined;
  return plainUrl(base.prefix + input);
}

/** Appends the `query` option to `url`: arrays repeat the key, `undefined` is dropped, `null` is empty. */
export function appendQuery(url: URL, query: Query): void {
  if (query instanceof URLSearchParams) {
    for (const [name, value] of query) url.searchParams.append(name, value);
    return;
  }
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw new ConfigError('query', query, 'expected an object or URLSearchParams');
  }
  for (const name of Object.keys(query)) {
    const value = query[name];
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item !== undefined) url.searchParams.append(name, item === null ? '' : String(item));
    }
  }
}
