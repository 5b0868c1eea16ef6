import {
  MAX_SERVER_DELAY_MS,
  parseHttpDate,
  parseRateLimitReset,
  parseRetryAfter,
} from './retry-after.js';

const NOW = Date.parse('2015-10-21T07:27:00Z');

describe('parseRetryAfter', () => {
  test.each<[string, string | null | undefined, number | undefined]>([
    ['delay-seconds', '120', 120_000],
    ['zero seconds', '0', 0],
    ['seconds with surrounding whitespace', '  5 ', 5_000],
    ['fractional seconds', '1.5', 1_500],
    ['an IMF-fixdate one minute ahead', 'Wed, 21 Oct 2015 07:28:00 GMT', 60_000],
    ['an IMF-fixdate in lower case', 'wed, 21 oct 2015 07:28:00 gmt', 60_000],
    ['an RFC 850 date', 'Wednesday, 21-Oct-15 07:28:30 GMT', 90_000],
    ['an asctime date', 'Wed Oct 21 07:29:00 2015', 120_000],
    ['an asctime date with a one-digit day', 'Sun Nov  6 08:49:37 1994', 0],
    ['a date in the past', 'Wed, 21 Oct 2015 07:00:00 GMT', 0],
    ['a leap second', 'Wed, 21 Oct 2015 07:27:60 GMT', 59_000],
    ['null', null, undefined],
    ['undefined', undefined, undefined],
    ['an empty string', '', undefined],
    ['negative seconds', '-5', undefined],
    ['seconds with a unit', '5s', undefined],
    ['hexadecimal', '0x10', undefined],
    ['exponent notation', '1e3', undefined],
    ['Infinity', 'Infinity', undefined],
    ['NaN', 'NaN', undefined],
    ['a date with a time zone other than GMT', 'Wed, 21 Oct 2015 07:28:00 PST', undefined],
    ['an impossible date', 'Mon, 31 Feb 2015 07:28:00 GMT', undefined],
    ['an impossible hour', 'Wed, 21 Oct 2015 25:28:00 GMT', undefined],
    ['an ISO date', '2015-10-21T07:28:00Z', undefined],
    ['words', 'later please', undefined],
  ])('reads %s', (_name, value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  test('clamps a huge number of seconds instead of returning Infinity', () => {
    expect(parseRetryAfter('9'.repeat(400), NOW)).toBe(MAX_SERVER_DELAY_MS);
    expect(parseRetryAfter('99999999999999999999', NOW)).toBe(MAX_SERVER_DELAY_MS);
  });

  test('defaults the clock to Date.now()', () => {
    const inOneHour = new Date(Date.now() + 3_600_000).toUTCString();
    const delay = parseRetryAfter(inOneHour)!;
    expect(delay).toBeGreaterThan(3_590_000);
    expect(delay).toBeLessThanOrEqual(3_600_000);
  });

  test('runs in linear time on 100 KB of junk', () => {
    const junks = [
      `${'1'.repeat(100_000)}x`,
      'Wed, '.repeat(20_000),
      `${' '.repeat(100_000)}1x`,
      '1.'.repeat(50_000),
      `Wed, 21 Oct 2015 07:28:00 GMT${' GMT'.repeat(25_000)}`,
    ];
    const started = performance.now();
    for (const junk of junks) expect(parseRetryAfter(junk, NOW)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('parseHttpDate', () => {
  test('reads the three forms of RFC 9110 to the same instant', () => {
    const expected = Date.parse('1994-11-06T08:49:37Z');
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
  });

  test('reads a two-digit year more than 50 years ahead as the past century', () => {
    expect(parseHttpDate('Thursday, 01-Jan-70 00:00:00 GMT', NOW)).toBe(0);
    expect(parseHttpDate('Friday, 01-Jan-60 00:00:00 GMT', NOW)).toBe(
      Date.parse('2060-01-01T00:00:00Z'),
    );
  });
});

describe('parseRateLimitReset', () => {
  const nowSeconds = 1_700_000_000;
  const now = nowSeconds * 1000;

  test.each<[string, Record<string, string>, number | undefined]>([
    ['RateLimit-Reset as delta seconds', { 'ratelimit-reset': '30' }, 30_000],
    ['X-RateLimit-Reset as delta seconds', { 'x-ratelimit-reset': '7' }, 7_000],
    [
      'X-RateLimit-Reset as epoch seconds',
      { 'x-ratelimit-reset': String(nowSeconds + 60) },
      60_000,
    ],
    ['X-RateLimit-Reset as epoch ms', { 'x-ratelimit-reset': String(now + 1_500) }, 1_500],
    ['an epoch in the past', { 'x-ratelimit-reset': String(nowSeconds - 60) }, 0],
    [
      'RateLimit-Reset before X-RateLimit-Reset',
      { 'ratelimit-reset': '2', 'x-ratelimit-reset': '9' },
      2_000,
    ],
    [
      'a junk RateLimit-Reset, falling back to X-RateLimit-Reset',
      { 'ratelimit-reset': 'soon', 'x-ratelimit-reset': '3' },
      3_000,
    ],
    ['the structured list form', { ratelimit: '"default";r=0;t=30' }, 30_000],
    [
      'the exhausted policy of several',
      { ratelimit: '"burst";r=5;t=1, "day";r=0;t=3600' },
      3_600_000,
    ],
    ['the longest reset when none is exhausted', { ratelimit: '"a";r=5;t=1, "b";r=3;t=4' }, 4_000],
    [
      'the dictionary form of earlier drafts',
      { ratelimit: 'limit=10, remaining=0, reset=12' },
      12_000,
    ],
    ['a structured header without a reset', { ratelimit: '"default";r=0' }, undefined],
    ['no header at all', {}, undefined],
    [
      'junk everywhere',
      { 'ratelimit-reset': '-1', 'x-ratelimit-reset': 'NaN', ratelimit: ';;;==,,' },
      undefined,
    ],
  ])('reads %s', (_name, headers, expected) => {
    expect(parseRateLimitReset(new Headers(headers), now)).toBe(expected);
  });

  test('runs in linear time on 100 KB of junk', () => {
    const headers = new Headers({
      'ratelimit-reset': `${'9'.repeat(100_000)}x`,
      'x-ratelimit-reset': '1.'.repeat(50_000),
      ratelimit: '"a";t=x,'.repeat(12_500),
    });
    const started = performance.now();
    expect(parseRateLimitReset(headers, now)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(200);
  });

  test('never returns Infinity for a huge structured reset', () => {
    expect(
      parseRateLimitReset(new Headers({ ratelimit: `"a";r=0;t=${'9'.repeat(400)}` }), now),
    ).toBe(MAX_SERVER_DELAY_MS);
  });
});
