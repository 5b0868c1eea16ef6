// Parsing of the headers in which a server says how long to wait: Retry-After and RateLimit-Reset.
// Pure helpers for middleware authors (retry, rate limits); bounded and linear on hostile input.

/**
 * The largest delay these helpers return, in ms. Larger or unbounded values (a 400-digit
 * `Retry-After`) are clamped to it, so callers never see `Infinity` and can compare with a cap.
 */
export const MAX_SERVER_DELAY_MS = Number.MAX_SAFE_INTEGER;

// RFC 9110 §10.2.3 allows only digits; a fraction is accepted too, as some servers send one.
const SECONDS = /^\d+(?:\.\d+)?$/;
// An HTTP-date is at most 29 characters (RFC 850 form with the longest weekday is 33); anything
// longer is junk, refused before any regex runs.
const MAX_DATE_LENGTH = 40;
const MONTHS = 'jan feb mar apr may jun jul aug sep oct nov dec'.split(' ');
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7: IMF-fixdate, then the obsolete RFC 850 and asctime forms recipients must accept.
const IMF_FIXDATE = new RegExp(`^[a-z]{3}, (\\d{1,2}) ${MONTH} (\\d{4}) ${TIME} gmt$`, 'i');
const RFC850_DATE = new RegExp(`^[a-z]{6,9}, (\\d{1,2})-${MONTH}-(\\d{2}) ${TIME} gmt$`, 'i');
const ASCTIME_DATE = new RegExp(`^[a-z]{3} ${MONTH} ( ?\\d{1,2}) ${TIME} (\\d{4})$`, 'i');

function clampMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms > MAX_SERVER_DELAY_MS ? MAX_SERVER_DELAY_MS : Math.ceil(ms);
}

function parseSeconds(text: string): number | undefined {
  if (!SECONDS.test(text)) return undefined;
  return Number(text);
}

function utc(
  year: number,
  month: string,
  day: number,
  h: string,
  m: string,
  s: string,
): number | undefined {
  const hours = Number(h);
  const minutes = Number(m);
  const seconds = Number(s);
  // RFC 9110 §5.6.7 with RFC 5322 §3.3: second 60 is a leap second, the instant after :59, which
  // a POSIX clock names as the next minute's :00; the ranges are checked on the values as sent.
  if (hours > 23 || minutes > 59 || seconds > 60 || day < 1) return undefined;
  const date = new Date(0);
  // setUTCFullYear rather than Date.UTC, which reads the years 0-99 as 1900-1999.
  date.setUTCFullYear(year, MONTHS.indexOf(month.toLowerCase()), day);
  // The day rolls over (31 Feb into March); such a date is junk, not a date. Checked before the
  // time is added, so that 23:59:60 can roll into the next day.
  if (date.getUTCDate() !== day) return undefined;
  return date.getTime() + ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

/**
 * The instant an HTTP-date (RFC 9110 §5.6.7) names, in ms since the epoch, or `undefined` when
 * `text` is not one. Accepts IMF-fixdate, RFC 850 and asctime forms, all read as UTC. A field out
 * of range (hour 24, minute 60, second 61, 31 Feb) makes it not a date; second 60 is a leap second,
 * the instant after :59.
 * @example
 * parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'); // 784111777000
 */
export function parseHttpDate(text: string, nowMs: number = Date.now()): number | undefined {
  if (text.length > MAX_DATE_LENGTH) return undefined;
  let match = IMF_FIXDATE.exec(text);
  if (match)
    return utc(Number(match[3]), match[2]!, Number(match[1]), match[4]!, match[5]!, match[6]!);
  match = RFC850_DATE.exec(text);
  if (match) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(match[3]);
    if (year > nowYear + 50) year -= 100;
    return utc(year, match[2]!, Number(match[1]), match[4]!, match[5]!, match[6]!);
  }
  match = ASCTIME_DATE.exec(text);
  if (match)
    return utc(Number(match[6]), match[1]!, Number(match[2]), match[3]!, match[4]!, match[5]!);
  return undefined;
}

/**
 * How long a `Retry-After` value asks to wait, in ms: delay-seconds or an HTTP-date (a date in the
 * past means 0). `undefined` for a missing or malformed value. Never negative, `NaN` or `Infinity`
 * (huge values are clamped to {@link MAX_SERVER_DELAY_MS}); linear in the length of `value`.
 * @example
 * parseRetryAfter(res.headers.get('retry-after')); // '120' → 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z')); // 60000
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  const seconds = parseSeconds(text);
  if (seconds !== undefined) return clampMs(seconds * 1000);
  const date = parseHttpDate(text, nowMs);
  return date === undefined ? undefined : clampMs(date - nowMs);
}

// Reset values this large are instants rather than delays: 1e9 s is 31 years (GitHub and others
// send epoch seconds in X-RateLimit-Reset), and 1e12 is an epoch in ms.
const EPOCH_SECONDS = 1e9;
const EPOCH_MS = 1e12;

function resetToMs(reset: number, nowMs: number): number {
  if (reset >= EPOCH_MS) return clampMs(reset - nowMs);
  if (reset >= EPOCH_SECONDS) return clampMs(reset * 1000 - nowMs);
  return clampMs(reset * 1000);
}

interface Quota {
  remaining?: number;
  reset?: number;
}

/**
 * Reads the `RateLimit` structured header: the list form of draft-ietf-httpapi-ratelimit-headers-08+
 * (`"default";r=0;t=30`) and the dictionary form of earlier drafts (`limit=10, remaining=0, reset=30`).
 * Returns the reset of the exhausted policies (remaining 0), else of all, in seconds.
 */
function structuredReset(value: string): number | undefined {
  const policies: Quota[] = [];
  const dictionary: Quota = {};
  for (const member of value.split(',')) {
    const params = member.split(';');
    const head = params[0]!.trim();
    const eq = head.indexOf('=');
    if (eq !== -1 && !head.startsWith('"')) {
      // Dictionary form: each member is one key of a single policy.
      const key = head.slice(0, eq).trim().toLowerCase();
      const number = parseSeconds(head.slice(eq + 1).trim());
      if (number === undefined) continue;
      if (key === 'reset' || key === 't') dictionary.reset = number;
      else if (key === 'remaining' || key === 'r') dictionary.remaining = number;
      continue;
    }
    const quota: Quota = {};
    for (let i = 1; i < params.length; i++) {
      const param = params[i]!;
      const at = param.indexOf('=');
      if (at === -1) continue;
      const key = param.slice(0, at).trim().toLowerCase();
      const number = parseSeconds(param.slice(at + 1).trim());
      if (number === undefined) continue;
      if (key === 't') quota.reset = number;
      else if (key === 'r') quota.remaining = number;
    }
    if (quota.reset !== undefined) policies.push(quota);
  }
  if (dictionary.reset !== undefined) policies.push(dictionary);
  if (policies.length === 0) return undefined;
  const exhausted = policies.filter((p) => p.remaining === 0);
  // A loop rather than Math.max(...spread): a hostile header can hold tens of thousands of members.
  let max = 0;
  for (const policy of exhausted.length > 0 ? exhausted : policies)
    max = Math.max(max, policy.reset!);
  return max;
}

/**
 * How long until a rate limit resets, in ms, from `RateLimit-Reset`, `X-RateLimit-Reset` (delta
 * seconds, or an epoch timestamp in seconds or ms) or the `RateLimit` structured header (`t=` or
 * `reset=`), in that order. `undefined` when none holds a usable value. Never negative or `Infinity`.
 * @example
 * parseRateLimitReset(res.headers); // { 'x-ratelimit-reset': '1700000060' } at 1700000000 s → 60000
 */
export function parseRateLimitReset(
  headers: Pick<Headers, 'get'>,
  nowMs: number = Date.now(),
): number | undefined {
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset']) {
    const value = headers.get(name);
    if (value === null) continue;
    const reset = parseSeconds(value.trim());
    if (reset !== undefined) return resetToMs(reset, nowMs);
  }
  const structured = headers.get('ratelimit');
  if (structured === null) return undefined;
  const reset = structuredReset(structured);
  return reset === undefined ? undefined : clampMs(reset * 1000);
}
