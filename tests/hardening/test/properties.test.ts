// Property tests (fast-check) for the pure parts: server delays are never NaN, negative or infinite;
// URLs built from baseUrl and query round-trip; header redaction holds in any letter case.
import {
  createClient,
  DEFAULT_REDACT_HEADERS,
  parseHttpDate,
  parseRateLimitReset,
  parseRetryAfter,
  REDACTED,
  redactHeaders,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { logging } from '@extapi/middleware';
import fc from 'fast-check';
import { useGuard } from './helpers/guard.js';

const now = fc.integer({ min: 0, max: 8_640_000_000_000_000 });
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Values shaped like what servers send, with junk mixed in. */
const delayText = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.constantFrom('0', '1', '9', '.', ' ', '-', '+', 'e', ',', ';', '=') }),
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 10n ** 400n }).map(String),
  fc.double().map(String),
  fc
    .tuple(
      fc.constantFrom('Mon', 'Sunday', 'xyz'),
      fc.integer({ min: 0, max: 99 }),
      fc.constantFrom(...MONTHS),
      fc.integer({ min: 0, max: 99999 }),
      fc.integer({ min: 0, max: 99 }),
    )
    .map(([d, day, m, y, h]) => `${d}, ${day} ${m} ${y} ${h}:00:60 GMT`),
  fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
);

function isSaneDelay(ms: number | undefined): boolean {
  return ms === undefined || (Number.isFinite(ms) && ms >= 0);
}

/** The clock the RFC 850 form's two-digit years are read against. */
const DATE_NOW = Date.parse('2026-01-01T00:00:00Z');
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
/** Years the RFC 850 form names unambiguously at DATE_NOW (within 50 years, RFC 9110 §5.6.7). */
const years = fc.integer({ min: 1980, max: 2070 });

/** Date and time fields written in each of the three forms of RFC 9110 §5.6.7, as sent. */
function httpDates(year: number, month: number, day: number, time: number[]): string[] {
  const two = (n: number) => String(n).padStart(2, '0');
  const weekday = WEEKDAYS[new Date(Date.UTC(year, month, day)).getUTCDay()]!;
  const hms = time.map(two).join(':');
  return [
    `${weekday.slice(0, 3)}, ${two(day)} ${MONTHS[month]} ${year} ${hms} GMT`,
    `${weekday}, ${two(day)}-${MONTHS[month]}-${two(year % 100)} ${hms} GMT`,
    `${weekday.slice(0, 3)} ${MONTHS[month]} ${String(day).padStart(2, ' ')} ${hms} ${year}`,
  ];
}

describe('properties', () => {
  useGuard();

  it('parseRetryAfter never returns NaN, a negative or an infinite delay', () => {
    fc.assert(fc.property(delayText, now, (text, at) => isSaneDelay(parseRetryAfter(text, at))));
  });

  it('parseRateLimitReset never returns NaN, a negative or an infinite delay', () => {
    const header = fc.constantFrom('ratelimit-reset', 'x-ratelimit-reset', 'ratelimit');
    const structured = fc
      .tuple(delayText, delayText)
      .map(([r, t]) => fc.constantFrom(`"p";r=${r};t=${t}`, `limit=1, remaining=${r}, reset=${t}`));
    fc.assert(
      fc.property(
        fc.dictionary(
          header,
          fc.oneof(
            delayText,
            structured.chain((x) => x),
          ),
        ),
        now,
        (record, at) => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(record)) {
            try {
              headers.set(name, value);
            } catch {
              // Not a valid header value at all (CR, LF, NUL): no server can send it.
            }
          }
          return isSaneDelay(parseRateLimitReset(headers, at));
        },
      ),
    );
  });

  it('reads an HTTP-date in each of the three forms as the instant it names', () => {
    const instants = years.chain((year) =>
      fc.date({
        min: new Date(Date.UTC(year, 0, 1)),
        max: new Date(Date.UTC(year, 11, 31, 23, 59, 59)),
        noInvalidDate: true,
      }),
    );
    fc.assert(
      fc.property(instants, (date) => {
        const fields = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
        const texts = httpDates(
          date.getUTCFullYear(),
          date.getUTCMonth(),
          date.getUTCDate(),
          fields,
        );
        const second = Math.floor(date.getTime() / 1000) * 1000;
        expect(texts.map((text) => parseHttpDate(text, DATE_NOW))).toEqual([
          second,
          second,
          second,
        ]);
      }),
    );
  });

  it('checks hour, minute and second as sent, the same way in each form (second 60 is a leap second)', () => {
    const time = fc.tuple(
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
    );
    const days = fc.tuple(years, fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 28 }));
    fc.assert(
      fc.property(days, time, ([year, month, day], [hour, minute, second]) => {
        const valid = hour <= 23 && minute <= 59 && second <= 60;
        // Date.UTC rolls second 60 over into the next minute, the instant after :59.
        const instant = valid ? Date.UTC(year, month, day, hour, minute, second) : undefined;
        const texts = httpDates(year, month, day, [hour, minute, second]);
        expect(texts.map((text) => parseHttpDate(text, DATE_NOW))).toEqual([
          instant,
          instant,
          instant,
        ]);
      }),
    );
  });

  it('builds URLs from baseUrl, path and query that round-trip', async () => {
    const segment = fc.string({ minLength: 1 }).filter((s) => s !== '.' && s !== '..');
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 3 }),
        fc.array(segment, { maxLength: 3 }),
        fc.array(fc.tuple(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean()))),
        async (basePath, path, pairs) => {
          const transport = mockTransport([], { fallback: { status: 204 } });
          const encode = (segments: string[]) =>
            segments.map((s) => `/${encodeURIComponent(s)}`).join('');
          const client = createClient([transport], {
            baseUrl: `http://127.0.0.1:8080${encode(basePath)}`,
          });
          const query = new URLSearchParams();
          for (const [name, value] of pairs) query.append(name, String(value));
          await client.get(encode(path), { query });
          const sent = new URL(transport.requests[0]!.url);
          expect(sent.origin).toBe('http://127.0.0.1:8080');
          expect(sent.pathname.split('/').slice(1).map(decodeURIComponent)).toEqual(
            basePath.length + path.length === 0 ? [''] : [...basePath, ...path],
          );
          expect([...sent.searchParams]).toEqual(pairs.map(([n, v]) => [n, String(v)]));
        },
      ),
    );
  });

  it('builds the same URL from a query record as from the equivalent URLSearchParams', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }))),
        async (record) => {
          const transport = mockTransport([], { fallback: { status: 204 } });
          const client = createClient([transport], { baseUrl: 'http://127.0.0.1:8080/v1' });
          await client.get('/items', { query: record });
          const expected = new URLSearchParams();
          for (const name of Object.keys(record)) {
            const value = record[name]!;
            for (const item of Array.isArray(value) ? value : [value]) expected.append(name, item);
          }
          const sent = new URL(transport.requests[0]!.url);
          expect(sent.pathname).toBe('/v1/items');
          expect([...sent.searchParams]).toEqual([...expected]);
        },
      ),
    );
  });

  const listed = fc.constantFrom(...DEFAULT_REDACT_HEADERS, 'x-partner-key');
  const anyCase = listed.chain((name) =>
    fc
      .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
      .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('')),
  );
  const secret = fc.stringMatching(/^[A-Za-z0-9+/=._-]{1,40}$/).map((s) => `S3CRET-${s}`);

  it('never lets the value of a listed header through redactHeaders, in any letter case', () => {
    fc.assert(
      fc.property(anyCase, secret, (name, value) => {
        const headers = new Headers([
          [name, value],
          ['x-other', 'visible'],
        ]);
        const out = redactHeaders(headers, new Set(['x-partner-key']));
        return (
          out[name.toLowerCase()] === REDACTED &&
          out['x-other'] === 'visible' &&
          !JSON.stringify(out).includes(value)
        );
      }),
    );
  });

  it('never lets the value of a listed header into a verbose log line, in any letter case', async () => {
    await fc.assert(
      fc.asyncProperty(anyCase, secret, async (name, value) => {
        const lines: string[] = [];
        const sink = (obj: object, msg: string) => lines.push(msg + JSON.stringify(obj));
        const logger = { debug: sink, info: sink, warn: sink, error: sink };
        const transport = mockTransport([], {
          fallback: { status: 200, headers: { [name]: value }, body: 'ok' },
        });
        const client = createClient(
          [logging({ logger, verbose: true, redactHeaders: ['x-partner-key'] }), transport],
          {},
        );
        await client.get('http://127.0.0.1/', { headers: { [name]: value } });
        return lines.length === 2 && !lines.join('\n').includes(value);
      }),
    );
  });
});
