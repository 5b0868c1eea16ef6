// Secrets in errors and telemetry (axios#2648, #6919): a secret in a header, in URL userinfo and in
// ?sig= never shows in an error, a log line, a span or a metric, whatever way the call fails.
import { Socket } from 'node:net';
import { inspect } from 'node:util';
import { type Client, isExtapiError, isHttpStatusError } from '@extapi/core';
import { startTestServer } from '@extapi/core/testing';
import { bearerAuth, expectStatus, logging, retry } from '@extapi/middleware';
import { openTelemetry } from '@extapi/middleware/opentelemetry';
import { prometheusMetrics } from '@extapi/middleware/prometheus';
import { useGuard } from './helpers/guard.js';
import { captureTelemetry } from './helpers/telemetry.js';
import { TRANSPORTS } from './helpers/transports.js';

/** Every secret shares this marker, so one search finds any of them, whole or in part. */
const MARK = 'S3cr3tMark';
const HEADER_SECRET = `hdr-${MARK}-1`;
const TOKEN_SECRET = `tok-${MARK}-2`;
const USERINFO_SECRET = `pw-${MARK}-3`;
const SIG_SECRET = `sig-${MARK}-4`;
const SECRETS = [HEADER_SECRET, TOKEN_SECRET, USERINFO_SECRET, SIG_SECRET, MARK];

function leaks(text: string): string[] {
  return SECRETS.filter(
    (secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)),
  );
}

/** Enumerable properties, `cause` and `errors`, depth 10: what logging libraries walk. */
function transportInternals(value: unknown, depth = 0, seen = new Set<unknown>()): string[] {
  if (value === null || typeof value !== 'object' || depth > 10 || seen.has(value)) return [];
  seen.add(value);
  // A live socket, or undici's and node:http's request and connection objects. (undici's SocketError
  // carries a plain summary of addresses and byte counts, not the socket.)
  const name = (value as object).constructor?.name ?? '';
  if (
    value instanceof Socket ||
    /^(TLSSocket|Socket|ClientRequest|Agent|Client|Pool|Request|RequestHandler)$/.test(name)
  ) {
    return [name];
  }
  const found: string[] = [];
  const keys = new Set([...Object.keys(value), 'cause', 'errors']);
  for (const key of keys) {
    found.push(...transportInternals((value as Record<string, unknown>)[key], depth + 1, seen));
  }
  return found;
}

describe.each(TRANSPORTS)('secrets in errors and telemetry over %s', (_name, kind) => {
  const guard = useGuard();

  async function setup() {
    const server = await startTestServer((req, res) => {
      const path = new URL(req.url!, 'http://x').pathname;
      if (path === '/401') {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Bearer');
        return void res.end('no');
      }
      if (path === '/500') {
        res.statusCode = 500;
        return void res.end('boom');
      }
      if (path === '/stall') return;
      if (path === '/reset') return void req.socket.destroy();
      res.end('ok');
    });
    guard.defer(() => server.close());
    const { lines, logger, exporter, provider, registry } = captureTelemetry(guard);
    const client = guard.client([
      logging({ logger, verbose: true }),
      openTelemetry({ tracer: provider.getTracer('hardening') }),
      prometheusMetrics({ registry }),
      expectStatus([200]),
      retry({ maxAttempts: 2, backoff: { baseMs: 1, maxMs: 5 }, logger }),
      logging({ logger, verbose: true }),
      bearerAuth(() => TOKEN_SECRET),
      kind.make(guard),
    ]);
    return { server, client, lines, exporter, registry };
  }

  async function fail(client: Client, url: string): Promise<unknown> {
    return client.get(url, { headers: { 'x-api-key': HEADER_SECRET }, timeoutMs: 300 }).then(
      () => new Error('the call did not fail'),
      (e: unknown) => e,
    );
  }

  it.each([
    ['a 401', '/401'],
    ['a 500', '/500'],
    ['a timeout', '/stall'],
    ['a reset', '/reset'],
  ])(
    'keeps the secrets out of the error, log lines, spans and metrics on %s',
    async (_what, path) => {
      const { server, client, lines, exporter, registry } = await setup();
      const port = server.port;
      const url = `http://user:${USERINFO_SECRET}@127.0.0.1:${port}${path}?sig=${SIG_SECRET}&page=2`;
      const error = await fail(client, url);

      expect(isExtapiError(error)).toBe(true);
      expect(leaks(String(error))).toEqual([]);
      expect(leaks(JSON.stringify(error))).toEqual([]);
      expect(leaks(inspect(error, { depth: 10 }))).toEqual([]);
      expect(leaks((error as Error).stack ?? '')).toEqual([]);
      expect(leaks(lines.join('\n'))).toEqual([]);
      expect(lines.length).toBeGreaterThan(0);
      const spans = exporter.getFinishedSpans();
      expect(spans.length).toBeGreaterThan(0);
      expect(
        leaks(
          JSON.stringify(
            spans.map((s) => ({
              name: s.name,
              attributes: s.attributes,
              events: s.events,
              status: s.status,
            })),
          ),
        ),
      ).toEqual([]);
      const metrics = await registry.metrics();
      expect(metrics).toContain('127.0.0.1');
      expect(leaks(metrics)).toEqual([]);

      // What the error does carry: method, the URL redacted, status and attempts; no transport internals.
      const err = error as { method?: string; url?: string; attempt?: number };
      expect(err.method).toBe('GET');
      expect(err.url).toBe(`http://127.0.0.1:${port}${path}?sig=[REDACTED]&page=2`);
      if (isHttpStatusError(error)) {
        expect(error.status).toBe(Number(path.slice(1)));
        expect(error.attempt).toBeGreaterThanOrEqual(1);
      } else {
        expect(err.attempt).toBeGreaterThanOrEqual(1);
      }
      // retry() rethrows the last attempt's own error, with the earlier ones beside it.
      if (isExtapiError(error) && error.attempts > 1) {
        expect(error.previousErrors).toHaveLength(error.attempts - 1);
        for (const earlier of error.previousErrors)
          expect(leaks(inspect(earlier, { depth: 10 }))).toEqual([]);
      }
      expect(transportInternals(error)).toEqual([]);
    },
  );

  it('keeps a secret header value out of the ConfigError for a bad value, and URL secrets out of a refused URL', async () => {
    const client = guard.client([kind.make(guard)], { baseUrl: 'http://127.0.0.1:9' });
    const errors = await Promise.all([
      client
        .get('/', { headers: { 'x-api-key': `${HEADER_SECRET}\r\nx-injected: 1` } })
        .catch((e: unknown) => e),
      client
        .get('/', { headers: { authorization: `Bearer ${TOKEN_SECRET}\nx: 1` } })
        .catch((e: unknown) => e),
      client
        .get(`http://user:${USERINFO_SECRET}@127.0.0.2:9/?sig=${SIG_SECRET}`)
        .catch((e: unknown) => e),
      client.get(`ftp://user:${USERINFO_SECRET}@127.0.0.1:9/`).catch((e: unknown) => e),
    ]);
    for (const error of errors) {
      expect(isExtapiError(error) && error.code).toBe('ERR_CONFIG');
      expect(
        leaks(`${String(error)} ${JSON.stringify(error)} ${inspect(error, { depth: 10 })}`),
      ).toEqual([]);
    }
  });
});
