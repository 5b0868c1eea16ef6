import {
  MAX_SERVER_DELAY_MS,
  parseHttpDate,
  parseRateLimitReset,
  parseRetryAfter,
} from './retry-after.js';

const NOW = Date.parse('2015-10-21T07:27:00Z');

/** Junk values of a given length, in the shapes a backtracking regex would choke on. */
const JUNK = 4096;

/**
 * How many times more CPU time `prepare(size * 8)`'s work takes than `prepare(size)`'s: about 8
 * when linear, 64 when quadratic, on any machine. The fastest of five timings of each, repeated
 * until a sample takes a millisecond; CPU time, since a busy machine preempts long samples more.
 */
function growth(prepare: (size: number) => () => unknown, size: number): number {
  const time = (work: () => unknown, reps: number) => {
    const start = process.cpuUsage();
    for (let i = 0; i < reps; i++) work();
    const spent = process.cpuUsage(start);
    return (spent.user + spent.system) / 1000;
  };
  const small = prepare(size);
  const large = prepare(size * 8);
  let reps = 1;
  while (time(small, reps) < 1) reps *= 2;
  let bestSmall = Number.POSITIVE_INFINITY;
  let bestLarge = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 5; run++) {
    bestSmall = Math.min(bestSmall, time(small, reps));
    bestLarge = Math.min(bestLarge, time(large, reps));
  }
  return bestLarge / bestSmall;
}

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
    ['a leap second as the second it names', 'Wed, 21 Oct 2015 07:27:60 GMT', 60_000],
    ['seconds past a leap second', 'Wed, 21 Oct 2015 07:28:61 GMT', undefined],
    ['seconds of 99', 'Wed, 21 Oct 2015 12:00:99 GMT', undefined],
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

  test.each<[string, (size: number) => string]>([
    ['digits then a letter', (size) => `${'1'.repeat(size)}x`],
    ['repeated weekdays', (size) => 'Wed, '.repeat(size / 5)],
    ['spaces then digits and a letter', (size) => `${' '.repeat(size)}1x`],
    ['repeated "1."', (size) => '1.'.repeat(size / 2)],
    [
      'a date followed by junk',
      (size) => `Wed, 21 Oct 2015 07:28:00 GMT${' GMT'.repeat(size / 4)}`,
    ],
  ])('runs in linear time on junk: %s', (_name, junk) => {
    expect(parseRetryAfter(junk(100_000), NOW)).toBeUndefined();
    const ratio = growth((size) => {
      const text = junk(size);
      return () => parseRetryAfter(text, NOW);
    }, JUNK);
    expect(ratio).toBeLessThan(24);
  });
});

describe('parseHttpDate', () => {
  test('reads the three forms of RFC 9110 to the same instant', () => {
    const expected = Date.parse('1994-11-06T08:49:37Z');
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
  });

  // One instant in each form: 21 Oct 2015 at `time`, with `day` and `month` substituted.
  function forms(time: string, day = '21', month = 'Oct', year = '2015'): string[] {
    return [
      `Wed, ${day} ${month} ${year} ${time} GMT`,
      `Wednesday, ${day}-${month}-${year.slice(2)} ${time} GMT`,
      `Wed ${month} ${day.padStart(2, ' ')} ${time} ${year}`,
    ];
  }

  // RFC 9110 §5.6.7 and RFC 5322 §3.3: hour 00-23, minute 00-59, second 00-60 (60 is a leap
  // second: the instant after :59, which a POSIX clock names as the next minute's :00).
  test.each<[string, string, string, string, string | undefined]>([
    ['a plain time', '07:28:00', '21', 'Oct', '2015-10-21T07:28:00Z'],
    ['the last second of a minute', '07:28:59', '21', 'Oct', '2015-10-21T07:28:59Z'],
    ['a leap second', '07:28:60', '21', 'Oct', '2015-10-21T07:29:00Z'],
    ['the leap second of a year', '23:59:60', '31', 'Dec', '2016-01-01T00:00:00Z'],
    ['second 61', '07:28:61', '21', 'Oct', undefined],
    ['second 99', '12:00:99', '21', 'Oct', undefined],
    ['minute 60', '07:60:00', '21', 'Oct', undefined],
    ['minute 99', '07:99:00', '21', 'Oct', undefined],
    ['hour 24', '24:00:00', '21', 'Oct', undefined],
    ['hour 99', '99:00:00', '21', 'Oct', undefined],
    ['day 0', '07:28:00', '00', 'Oct', undefined],
    ['day 32', '07:28:00', '32', 'Oct', undefined],
    ['31 November', '07:28:00', '31', 'Nov', undefined],
    ['29 February of a common year', '07:28:00', '29', 'Feb', undefined],
  ])('reads %s the same way in all three forms', (_name, time, day, month, expected) => {
    const instant = expected === undefined ? undefined : Date.parse(expected);
    for (const text of forms(time, day, month))
      expect([text, parseHttpDate(text, NOW)]).toEqual([text, instant]);
  });

  test('reads 29 February of a leap year in all three forms', () => {
    for (const text of forms('07:28:00', '29', 'Feb', '2016'))
      expect(parseHttpDate(text, NOW)).toBe(Date.parse('2016-02-29T07:28:00Z'));
  });

  test('reads a four-digit year below 100 as that year, not as 19xx', () => {
    expect(parseHttpDate('Sat, 01 Jan 0099 00:00:00 GMT')).toBe(Date.parse('0099-01-01T00:00:00Z'));
    expect(parseHttpDate('Sat Jan  1 00:00:00 0099')).toBe(Date.parse('0099-01-01T00:00:00Z'));
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

  test('runs in linear time on junk', () => {
    const junk = (size: number) =>
      new Headers({
        'ratelimit-reset': `${'9'.repeat(size)}x`,
        'x-ratelimit-reset': '1.'.repeat(size / 2),
        ratelimit: '"a";t=x,'.repeat(size / 8),
      });
    expect(parseRateLimitReset(junk(100_000), now)).toBeUndefined();
    const ratio = growth((size) => {
      const headers = junk(size);
      return () => parseRateLimitReset(headers, now);
    }, JUNK);
    expect(ratio).toBeLessThan(24);
  });

  test('never returns Infinity for a huge structured reset', () => {
    expect(
      parseRateLimitReset(new Headers({ ratelimit: `"a";r=0;t=${'9'.repeat(400)}` }), now),
    ).toBe(MAX_SERVER_DELAY_MS);
  });
});
