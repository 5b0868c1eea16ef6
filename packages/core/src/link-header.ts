// The `Link` header (RFC 8288 §3), read in one pass: a hostile value costs time in proportion to
// its length (no regular expression that can backtrack). Used by client.paginate() to find `next`.

/** One link-value of a `Link` header. */
export interface LinkValue {
  /** The target as written between `<` and `>` (a URI-Reference: resolve it against the response URL). */
  readonly target: string;
  /** The relation types of `rel`, lower-cased (`rel="next last"` gives `['next', 'last']`). */
  readonly rel: readonly string[];
  /**
   * Every parameter by lower-cased name, quoted strings unescaped; the first occurrence of a
   * name wins (RFC 8288 §3.3 says so for `rel`).
   */
  readonly params: Readonly<Record<string, string>>;
}

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 9110 §5.6.2 tchar. */
function isTokenChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c > 0x20 && c < 0x7f && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)))
  );
}

function isDelimiter(c: number): boolean {
  return c === SEMICOLON || c === COMMA || c === SPACE || c === TAB || c === QUOTE;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
  return i;
}

/** The end of the quoted-string opening at `i` (just past its closing quote, or the end of text). */
function quotedEnd(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return text.length;
}

/** Skips to the comma that ends the current link-value (quoted strings may hold commas). */
function skipToComma(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA) return i;
    i = c === QUOTE ? quotedEnd(text, i) : i + 1;
  }
  return i;
}

function unquote(quoted: string): string {
  // Only here is a backslash special (RFC 9110 §5.6.4 quoted-pair); one pass, no regex.
  let out = '';
  const end = quoted.endsWith('"') && quoted.length > 1 ? quoted.length - 1 : quoted.length;
  for (let i = 1; i < end; i++) {
    if (quoted.charCodeAt(i) === BACKSLASH && i + 1 < end) i++;
    out += quoted[i];
  }
  return out;
}

/**
 * Parses a `Link` header (several headers joined by `, ` are one value, as `Headers.get` gives
 * them). Malformed link-values are skipped, never thrown on; the time taken is linear in the
 * length of `value` whatever it holds.
 * @example
 * parseLinkHeader('</items?page=2>; rel="next", </items?page=9>; rel=last');
 * // [{ target: '/items?page=2', rel: ['next'], params: { rel: 'next' } }, { target: '/items?page=9', … }]
 */
export function parseLinkHeader(value: string): LinkValue[] {
  const links: LinkValue[] = [];
  const n = value.length;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === SPACE || c === TAB || c === COMMA) {
      i++;
      continue;
    }
    if (c !== 0x3c /* < */) {
      i = skipToComma(value, i);
      continue;
    }
    const close = value.indexOf('>', i + 1);
    if (close === -1) break; // no target ends anywhere after this: nothing more to find
    const target = value.slice(i + 1, close).trim();
    // No prototype: a polluted Object.prototype cannot lend a link a `rel`.
    const params: Record<string, string> = Object.create(null);
    i = skipSpace(value, close + 1);
    while (i < n && value.charCodeAt(i) === SEMICOLON) {
      i = skipSpace(value, i + 1);
      const nameStart = i;
      while (i < n && isTokenChar(value.charCodeAt(i))) i++;
      const name = value.slice(nameStart, i).toLowerCase();
      i = skipSpace(value, i);
      let param = '';
      if (i < n && value.charCodeAt(i) === EQUALS) {
        i = skipSpace(value, i + 1);
        const start = i;
        if (i < n && value.charCodeAt(i) === QUOTE) {
          i = quotedEnd(value, i);
          param = unquote(value.slice(start, i));
        } else {
          // Leniently up to a delimiter: servers send `type=text/html` unquoted, though `/` is no tchar.
          while (i < n && !isDelimiter(value.charCodeAt(i))) i++;
          param = value.slice(start, i);
        }
        i = skipSpace(value, i);
      }
      if (name !== '' && !Object.hasOwn(params, name)) params[name] = param;
      // Junk after a parameter (`rel=next junk; …`) ends this link-value's parameters.
      if (i < n && value.charCodeAt(i) !== SEMICOLON) break;
    }
    i = skipToComma(value, i);
    const rel = Object.hasOwn(params, 'rel') ? splitRel(params.rel!) : [];
    links.push({ target, rel, params });
  }
  return links;
}

/** `rel`'s relation types (RFC 8288 §3.3: space-separated, compared case-insensitively). */
function splitRel(text: string): string[] {
  const types: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : SPACE;
    const space = c === SPACE || c === TAB || c === 0x0a || c === 0x0d;
    if (space && start !== -1) {
      types.push(text.slice(start, i).toLowerCase());
      start = -1;
    } else if (!space && start === -1) start = i;
  }
  return types;
}

/**
 * The target of the first link whose `rel` holds `rel` (default `next`), resolved against `base`
 * (the response URL); `undefined` when there is none or it is not a valid URL. A link with an
 * `anchor` parameter is about another resource than the response (RFC 8288 §3.2) and is ignored.
 * @example
 * findLink(res.headers.get('link'), res.url); // URL of the next page, or undefined
 */
export function findLink(header: string | null, base: string | URL, rel = 'next'): URL | undefined {
  if (header === null || header === '') return undefined;
  for (const link of parseLinkHeader(header)) {
    if (!link.rel.includes(rel) || Object.hasOwn(link.params, 'anchor')) continue;
    try {
      return new URL(link.target, base);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
