import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { createClient, type Transport, TransportError } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { Registry } from 'prom-client';
import { prometheusMetrics } from './index.js';

const LE = [
  '0.005',
  '0.01',
  '0.05',
  '0.1',
  '0.5',
  '1',
  '2.5',
  '5',
  '7.5',
  '10',
  '12.5',
  '15',
  '17.5',
  '20',
  '22.5',
  '25',
  '27.5',
  '30',
  '+Inf',
];

let server: TestServer;
let closedPort: number;

beforeAll(async () => {
  server = await startTestServer((req, res) => {
    res.statusCode = req.url === '/down' ? 503 : 200;
    res.end('body');
  });
  const closed = await startTestServer((_req, res) => {
    res.end();
  });
  closedPort = closed.port;
  await closed.close();
});
afterAll(() => server.close());

/** The histogram lines of one series: every bucket in order, then _sum and _count. */
function expectHistogram(lines: string[], name: string, labels: string): void {
  const buckets = lines.filter(
    (line) => line.startsWith(`${name}_bucket{`) && line.includes(labels),
  );
  expect(buckets.map((line) => /le="([^"]+)"/.exec(line)![1])).toEqual(LE);
  const counts = buckets.map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  // One observation: 0 up to its bucket, 1 from there on, and 1 at +Inf.
  expect(
    counts.every((count) => count === 0 || count === 1) &&
      counts.every((c, i) => i === 0 || c >= counts[i - 1]!),
  ).toBe(true);
  expect(counts[counts.length - 1]).toBe(1);
  expect(lines).toContain(`${name}_count{${labels}} 1`);
  const sum = lines.find((line) => line.startsWith(`${name}_sum{${labels}}`));
  const seconds = Number(sum?.slice(sum.lastIndexOf(' ') + 1));
  expect(seconds).toBeGreaterThan(0);
  // The observation sits in the first bucket whose bound holds it.
  const first = counts.indexOf(1);
  expect(seconds).toBeLessThanOrEqual(
    first === LE.length - 1 ? Number.POSITIVE_INFINITY : Number(LE[first]),
  );
}

describe.each([
  ['undici', () => undiciTransport()],
  ['fetch', () => fetchTransport()],
] as [string, () => Transport][])(
  'prometheusMetrics over the %s transport',
  (_name, makeTransport) => {
    let transport: Transport;
    beforeEach(() => {
      transport = makeTransport();
    });
    afterEach(() => transport.close());

    it('exposes the exact series after a 200, a 503 and a refused connection', async () => {
      const registry = new Registry();
      const client = createClient([prometheusMetrics({ registry }), transport]);
      expect(
        (await client.get(`${server.url}/items/1`, { pathTemplate: '/items/:id' })).status,
      ).toBe(200);
      expect((await client.get(`${server.url}/down`, { pathTemplate: '/down' })).status).toBe(503);
      await expect(
        client.get(`http://127.0.0.1:${closedPort}/items/2`, { pathTemplate: '/items/:id' }),
      ).rejects.toThrow(TransportError);

      const text = await registry.metrics();
      const lines = text.split('\n');
      const port = String(server.port);
      const ok = `scheme="http",domain="127.0.0.1",port="${port}",method="GET",path="/items/:id",status="200"`;
      const down = `scheme="http",domain="127.0.0.1",port="${port}",method="GET",path="/down",status="503"`;
      const refused = `scheme="http",domain="127.0.0.1",port="${closedPort}",method="GET",path="/items/:id",error_type="TransportError"`;

      expect(lines.filter((line) => line.startsWith('external_service_request_total'))).toEqual([
        `external_service_request_total{${ok}} 1`,
        `external_service_request_total{${down}} 1`,
      ]);
      expect(
        lines.filter((line) => line.startsWith('external_service_errored_request_total')),
      ).toEqual([`external_service_errored_request_total{${refused}} 1`]);
      expectHistogram(lines, 'external_service_request_duration_seconds', ok);
      expectHistogram(lines, 'external_service_request_duration_seconds', down);
      expectHistogram(lines, 'external_service_errored_request_duration_seconds', refused);
      expect(
        lines.filter((line) => line.startsWith('external_service_request_duration_seconds_count')),
      ).toHaveLength(2);
      expect(
        lines.filter((line) =>
          line.startsWith('external_service_errored_request_duration_seconds_count'),
        ),
      ).toHaveLength(1);
      expect(text).toContain('# TYPE external_service_request_total counter');
      expect(text).toContain('# TYPE external_service_errored_request_duration_seconds histogram');
    });
  },
);
