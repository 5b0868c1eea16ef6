// Linear parsers (undici CVE-2023-24807 and others): wherever extapi reads a header, a hostile value
// 8 times longer takes about 8 times as long (64 when quadratic), and junk in Retry-After falls back
// to the backoff. Growth, not wall-clock time, so that a slow or loaded machine measures the same.
import {
  createClient,
  findLink,
  parseLinkHeader,
  parseRateLimitReset,
  parseRetryAfter,
  redactUrl,
} from '@extapi/core';
import { mockTransport, rawResponse, startRawServer } from '@extapi/core/testing';
import { logging, retry, serverPauseMs } from '@extapi/middleware';
import { growth, LINEAR_GROWTH_LIMIT } from './helpers/growth.js';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

/**
 * The small size timed; the large one is 8 times that. Every string built from the large values
 * stays under 128 KB (redactUrl's URL holds 27 runs of a filler once spaces are percent-encoded):
 * V8 puts longer strings in its large-object space, where an allocation costs about 15 times more
 * (new URL() of 120,000 and 140,000 characters: 0.11 and 1.8 ms), a cliff that is not growth. A
 * quadratic parser is 64 times slower at any size.
 */
const SIZE = 512;
/** The size of the values checked for what they parse to. */
const HOSTILE = 100 * 1024;
const FILLERS = { spaces: ' ', commas: ',', slashes: '/' };
const SHAPES = 9;

/** Hostile shapes around a filler: bare, and after the prefixes each parser looks for. */
function shapes(fill: string, size: number): string[] {
  const run = fill.repeat(size);
  return [
    run,
    `1${run}`,
    `${run}1`,
    `r=0${run}t=1`,
    `"p";r=0;t=${run}`,
    `limit=1${run}reset=1`,
    `Wed, 21 Oct 2015${run}`,
    `text/plain;${run}charset=utf-8`,
    `<http://a/${run}>; rel="next"${run}, <http://b/>; rel=${run}`,
  ];
}

/** Every header the parsers read, holding `value`. */
function hostileHeaders(value: string): Headers {
  return new Headers({
    'retry-after': value,
    ratelimit: value,
    'ratelimit-reset': value,
    'x-ratelimit-reset': value,
    'ratelimit-remaining': value,
    'x-ratelimit-remaining': value,
    'content-type': value,
    link: value,
  });
}

type PauseResponse = Parameters<typeof serverPauseMs>[0];

/** Each parser, given one hostile value: the work to time. */
const PARSERS: Record<string, (value: string) => () => unknown> = {
  parseRetryAfter: (value) => () => parseRetryAfter(value),
  parseRateLimitReset: (value) => {
    const headers = hostileHeaders(value);
    return () => parseRateLimitReset(headers);
  },
  serverPauseMs: (value) => {
    const response = { status: 429, headers: hostileHeaders(value) } as PauseResponse;
    return () => serverPauseMs(response);
  },
  redactUrl: (value) => () => redactUrl(`http://x/${value}?${value}=${value}`),
  parseLinkHeader: (value) => () => parseLinkHeader(value),
};

/** Runs that a Link parser could rescan: brackets, quotes, escapes, parameter and list separators. */
const LINK_FILLERS = {
  'open brackets': '<',
  semicolons: ';',
  quotes: '"',
  backslashes: '\\',
  'empty params': '<a>;=;',
  'rel lists': 'next ',
};

/** Hostile Link values around a filler: unterminated targets, quoted strings and parameter lists. */
function linkShapes(fill: string, size: number): string[] {
  const run = fill.repeat(size);
  return [
    run,
    `<${run}`,
    `<a>${run}; rel=next`,
    `<a>; rel="${run}`,
    `<a>; title="${run}"; rel="next ${run}"`,
    `<a>; ${run}=x, <b>; rel=next`,
    `${run}<b>; rel=next`,
  ];
}

/** The entries that grew faster than linear: [what, ratio] pairs, to name them when a test fails. */
function superlinear(ratios: Record<string, number>): [string, number][] {
  return Object.entries(ratios).filter(([, ratio]) => !(ratio < LINEAR_GROWTH_LIMIT));
}

describe('linear parsers', () => {
  useGuard();

  it('measures a quadratic parser as superlinear and a linear one as linear (the meter works)', async () => {
    const quadratic = (value: string) => () => {
      let pairs = 0;
      for (let i = 0; i < value.length; i++) {
        for (let j = i; j < value.length; j++) if (value[i] === value[j]) pairs++;
      }
      return pairs;
    };
    const linear = (value: string) => () => value.split(' ').length;
    expect(await growth((size) => quadratic(' '.repeat(size)), SIZE)).toBeGreaterThan(
      LINEAR_GROWTH_LIMIT,
    );
    expect(await growth((size) => linear(' '.repeat(size)), SIZE)).toBeLessThan(
      LINEAR_GROWTH_LIMIT,
    );
  });

  it.each(Object.entries(FILLERS))(
    'parses Retry-After, RateLimit-*, content-type and Link-style values of %s in linear time',
    async (_label, fill) => {
      const ratios: Record<string, number> = {};
      for (let shape = 0; shape < SHAPES; shape++) {
        for (const [name, parser] of Object.entries(PARSERS)) {
          ratios[`${name} of shape ${shape}`] = await growth(
            (size) => parser(shapes(fill, size)[shape]!),
            SIZE,
          );
        }
      }
      expect(superlinear(ratios)).toEqual([]);
      for (const value of shapes(fill, HOSTILE)) {
        const delay = parseRetryAfter(value);
        // Only digits with whitespace around them make a delay (OWS is trimmed): 1 s here.
        expect(delay === undefined || delay === 1000).toBe(true);
      }
    },
  );

  it.each(Object.entries(LINK_FILLERS))(
    'parses Link headers made of %s in linear time, and never throwing',
    async (_label, fill) => {
      const ratios: Record<string, number> = {};
      const count = linkShapes(fill, 1).length;
      for (let shape = 0; shape < count; shape++) {
        ratios[`parseLinkHeader of shape ${shape}`] = await growth(
          (size) => PARSERS.parseLinkHeader!(linkShapes(fill, size)[shape]!),
          SIZE,
        );
        ratios[`findLink of shape ${shape}`] = await growth((size) => {
          const value = linkShapes(fill, size)[shape]!;
          return () => findLink(value, 'http://x/');
        }, SIZE);
      }
      expect(superlinear(ratios)).toEqual([]);
      for (const value of linkShapes(fill, HOSTILE)) {
        // Never throws; whatever it finds is a relative target, so on the response's origin.
        expect(findLink(value, 'http://x/')?.origin ?? 'http://x').toBe('http://x');
      }
    },
  );

  it.each(Object.entries(FILLERS))(
    'logs a response whose content-type, link and body are made of %s in linear time',
    async (_label, fill) => {
      // Counted, not kept: thousands of timed calls would otherwise hold megabytes of lines.
      let lines = 0;
      const sink = (obj: object, msg: string) => {
        if ((msg + JSON.stringify(obj)).length > 0) lines++;
      };
      const logger = { debug: sink, info: sink, warn: sink, error: sink };
      const ratios: Record<string, number> = {};
      for (let shape = 0; shape < SHAPES; shape++) {
        ratios[`shape ${shape}`] = await growth((size) => {
          const value = shapes(fill, size)[shape]!;
          const transport = mockTransport([], {
            fallback: {
              status: 200,
              headers: { 'content-type': value, link: value },
              body: `{"token":"${value}", "a": "${value}"}`,
            },
          });
          const client = createClient([logging({ logger, verbose: true }), transport]);
          const url = `http://x/${fill.repeat(size / 8)}`;
          return () => client.get(url);
        }, SIZE);
      }
      expect(superlinear(ratios)).toEqual([]);
      expect(lines).toBeGreaterThan(0);
    },
  );

  it('falls back to the backoff when Retry-After is 64 KB of junk', async () => {
    const junk = 'x,/ 9'.repeat((64 * 1024) / 5);
    const delays: Record<string, number[]> = { junk: [], none: [] };
    for (const kind of ['junk', 'none'] as const) {
      const transport = mockTransport([
        { status: 503, headers: kind === 'junk' ? { 'retry-after': junk } : {} },
        { status: 200 },
      ]);
      const client = createClient([
        retry({
          random: () => 0.5,
          sleep: async (ms) => {
            delays[kind]!.push(ms);
          },
        }),
        transport,
      ]);
      expect((await client.get('http://x/')).status).toBe(200);
    }
    expect(delays.junk).toEqual(delays.none);
    expect(delays.junk).toHaveLength(1);
  });
});

describe.each(TRANSPORTS)('junk Retry-After on the wire over %s', (_name, kind) => {
  const guard = useGuard();

  it('retries after the backoff, not after a delay read from 8 KB of junk', async () => {
    const junk = '9, /'.repeat(2 * 1024);
    let calls = 0;
    const raw = await startRawServer((_req, socket) => {
      calls++;
      socket.write(
        calls === 1 ? rawResponse(503, 'busy', [`retry-after: ${junk}`]) : rawResponse(200, 'ok'),
      );
    });
    guard.defer(() => raw.close());
    const delays: number[] = [];
    const client = guard.client(
      [
        retry({
          backoff: { baseMs: 10, maxMs: 10 },
          onRetry: (info) => delays.push(info.delayMs),
        }),
        kind.make(guard),
      ],
      { baseUrl: raw.url },
    );
    expect(await (await client.get('/')).text()).toBe('ok');
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeLessThanOrEqual(10);
  });
});
