// Prototype pollution of the observability and limit middleware (issue 12 #8): with a polluted
// Object.prototype, logging, tracing, metrics and the limits behave exactly as their own options say.
import type { IncomingHttpHeaders } from 'node:http';
import { startTestServer } from '@extapi/core/testing';
import { concurrencyLimit, logging, rateLimit } from '@extapi/middleware';
import { openTelemetry } from '@extapi/middleware/opentelemetry';
import { prometheusMetrics } from '@extapi/middleware/prometheus';
import { type TextMapPropagator, trace } from '@opentelemetry/api';
import { useGuard } from './helpers/guard.js';
import { captureTelemetry } from './helpers/telemetry.js';
import { TRANSPORTS } from './helpers/transports.js';

// What a hostile JSON merge could plant, each a gadget of one of the middleware.
const GADGETS: Record<string, unknown> = {
  verbose: true,
  maxBodyBytes: 1_000_000,
  injectHeaders: false,
  spanName: () => 'polluted',
  meter: false,
  prefix: 'evil_',
  maxPathValues: 1,
  maxQueue: 0,
  max: 1000,
  limit: 1000,
  windowMs: 1,
  redis: 'redis://127.0.0.1:1',
};

// A W3C traceparent writer (what @opentelemetry/core's propagator sends), without that package.
const propagator: TextMapPropagator = {
  inject(context, carrier, setter) {
    const span = trace.getSpanContext(context);
    if (span) setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-01`);
  },
  extract: (context) => context,
  fields: () => ['traceparent'],
};

describe.each(TRANSPORTS)(
  'observability middleware under prototype pollution over %s',
  (_name, kind) => {
    const guard = useGuard();

    it('logs no body, injects traceparent, names metrics without a prefix and keeps the limits', async () => {
      const seen: IncomingHttpHeaders[] = [];
      const server = await startTestServer((req, res) => {
        seen.push(req.headers);
        res.setHeader('content-type', 'application/json');
        res.end('{"body":"BodyText"}');
      });
      guard.defer(() => server.close());
      const { lines, logger, exporter, provider, registry } = captureTelemetry(guard);

      const proto = Object.prototype as Record<string, unknown>;
      let stack: Parameters<typeof guard.client>[0];
      let limits: { close(): Promise<void> }[];
      try {
        Object.assign(proto, GADGETS);
        const rate = rateLimit({ limit: 1, windowMs: 60_000 });
        const slots = concurrencyLimit({ max: 1 });
        limits = [rate, slots];
        stack = [
          logging({ logger }),
          openTelemetry({
            tracer: provider.getTracer('t'),
            propagator,
          }),
          prometheusMetrics({ registry }),
          slots,
          rate,
          kind.make(guard),
        ];
      } finally {
        for (const name of Object.keys(GADGETS)) delete proto[name];
      }
      for (const limit of limits) guard.defer(() => limit.close());
      const client = guard.client(stack);

      await client.get(`${server.url}/a`, { pathTemplate: '/a' });
      // The rate limit's own windowMs holds (not the prototype's 1 ms, nor its maxQueue 0).
      const controller = new AbortController();
      const second = client.get(`${server.url}/b`, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort(new Error('stop'));
      await expect(second).rejects.toThrow('stop');

      expect(seen).toHaveLength(1);
      expect(seen[0]!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      expect(lines.join('\n')).not.toMatch(/BodyText|"headers"/);
      expect(exporter.getFinishedSpans().map((span) => span.name)).toContain('GET /a');
      const metrics = await registry.metrics();
      expect(metrics).toContain('external_service_request_total{');
      expect(metrics).not.toContain('evil_');
    });
  },
);
