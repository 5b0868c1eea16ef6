// Redaction gaps (issue 12 #14): every secret query name and form (`;api_key=`, `#access_token=`)
// and every credential header of core's one list stays out of errors, log lines and span attributes,
// and no credential header follows a redirect to another origin.
import type { IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import { DEFAULT_SENSITIVE_HEADERS, isExtapiError } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { expectStatus, logging } from '@extapi/middleware';
import { openTelemetry } from '@extapi/middleware/opentelemetry';
import { useGuard } from './helpers/guard.js';
import { captureTelemetry } from './helpers/telemetry.js';
import { TRANSPORTS } from './helpers/transports.js';

/** Every secret carries this marker, so one search finds any of them. */
const MARK = 'Obs5ecret';

// The names of the issue, each a query parameter with its own secret value.
const QUERY_NAMES = [
  'pwd',
  'pass',
  'passphrase',
  'jwt',
  'session',
  'sid',
  'code',
  'otp',
  'client_assertion',
];
const query = QUERY_NAMES.map((name) => `${name}=${name}-${MARK}`).join('&');
// The other places a URL carries secrets: a path parameter, a `;` separated query, a fragment.
const PATHS = [
  ['secret query names', `/a?page=1&${query}`],
  ['a ;name= path parameter', `/a;api_key=path-${MARK}/b?page=1`],
  ['a ;-separated query', `/a?page=1;api_key=semi-${MARK}`],
  ['a #access_token= fragment', `/a?page=1#access_token=frag-${MARK}&state=s`],
];
// Headers of the issue that followed redirects and showed in verbose logs.
const HEADERS: Record<string, string> = {
  'api-key': `apikey-${MARK}`,
  'private-token': `private-${MARK}`,
  'x-goog-api-key': `goog-${MARK}`,
  authorization: `Bearer auth-${MARK}`,
  'x-api-key': `xapi-${MARK}`,
};

describe.each(TRANSPORTS)('one redaction list over %s', (_name, kind) => {
  const guard = useGuard();
  let server: TestServer;
  let other: TestServer;
  let seen: { where: string; headers: IncomingHttpHeaders }[];

  beforeEach(async () => {
    seen = [];
    other = await startTestServer((req, res) => {
      seen.push({ where: 'other', headers: req.headers });
      res.end('other');
    });
    server = await startTestServer((req, res) => {
      seen.push({ where: 'server', headers: req.headers });
      const path = new URL(req.url!, 'http://x').pathname;
      if (path === '/to-other') {
        res.writeHead(302, { location: `${other.url}/landed` });
        return void res.end();
      }
      if (path === '/to-self') {
        res.writeHead(302, { location: '/landed' });
        return void res.end();
      }
      res.statusCode = 500;
      res.end('boom');
    });
    guard.defer(() => server.close());
    guard.defer(() => other.close());
  });

  function telemetry() {
    const { lines, logger, exporter, provider } = captureTelemetry(guard);
    const stack = [
      logging({ logger, verbose: true }),
      openTelemetry({ tracer: provider.getTracer('t'), meter: false }),
      expectStatus(),
      kind.make(guard),
    ];
    const spans = () =>
      exporter
        .getFinishedSpans()
        .map((span) => JSON.stringify([span.attributes, span.events, span.status]))
        .join('\n');
    return { stack, lines, spans };
  }

  it.each(PATHS)('keeps %s out of errors, log lines and spans', async (_label, path) => {
    const { stack, lines, spans } = telemetry();
    const client = guard.client(stack);
    const error = await client.get(`${server.url}${path}`, { headers: HEADERS }).catch((e) => e);
    expect(isExtapiError(error)).toBe(true);
    expect((error as { status: number }).status).toBe(500);
    const outputs = {
      error: `${String(error)} ${JSON.stringify(error)} ${inspect(error, { depth: 10 })}`,
      logs: lines.join('\n'),
      spans: spans(),
    };
    for (const [where, text] of Object.entries(outputs)) {
      expect({ where, leaks: text.includes(MARK) }).toEqual({ where, leaks: false });
    }
    // Redacted, not dropped: the non-secret parameters still show.
    expect(outputs.logs).toContain('page=1');
    expect(outputs.logs).toContain('[REDACTED]');
    expect(outputs.spans).toContain('[REDACTED]');
  });

  it('sends no credential header of the list to another origin on a redirect', async () => {
    const sensitive = Object.fromEntries(
      DEFAULT_SENSITIVE_HEADERS.filter((name) => name !== 'set-cookie').map((name) => [
        name,
        `${name}-${MARK}`,
      ]),
    );
    const client = guard.client([kind.make(guard)]);
    expect(
      (await client.get(`${server.url}/to-other`, { headers: { ...sensitive, 'x-kept': 'k' } }))
        .status,
    ).toBe(200);
    expect(seen.map((s) => s.where)).toEqual(['server', 'other']);
    const landed = seen[1]!.headers;
    for (const name of Object.keys(sensitive))
      expect({ name, value: landed[name] }).toEqual({ name, value: undefined });
    expect(landed['x-kept']).toBe('k');
  });

  it('keeps them on a redirect within the origin', async () => {
    const client = guard.client([kind.make(guard)]);
    await client.get(`${server.url}/to-self`, { headers: HEADERS });
    expect(seen).toHaveLength(2);
    for (const [name, value] of Object.entries(HEADERS)) expect(seen[1]!.headers[name]).toBe(value);
  });
});
