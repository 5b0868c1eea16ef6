import {
  type ConfigError,
  createClient,
  HttpStatusError,
  isConfigError,
  TimeoutError,
  TransportError,
  type Middleware,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type Histogram as HistogramPoint,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expectStatus } from '../expect-status.js';
import { hedge } from '../hedge/index.js';
import { retry } from '../retry/index.js';
import { DURATION_BUCKETS, openTelemetry } from './index.js';

/** A metric reader that collects on demand: the in-memory reader of the tests. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The data points of `http.client.request.duration`, with the descriptor. */
async function durationPoints(reader: TestReader) {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === 'http.client.request.duration');
  expect(found).toHaveLength(1);
  const metric = found[0]!;
  expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
  return {
    descriptor: metric.descriptor,
    points: metric.dataPoints as { attributes: object; value: HistogramPoint }[],
  };
}

const expectOk: Middleware = async (_ctx, next) => {
  const response = await next();
  if (!response.ok) throw new HttpStatusError(response, { expected: '2xx' });
  return response;
};

const noSleep = () => Promise.resolve();

describe('openTelemetry without an SDK', () => {
  it('passes the same context through and adds no header', async () => {
    const transport = mockTransport([{ status: 200 }]);
    let seen: unknown;
    const spy: Middleware = (ctx, next) => {
      seen = ctx;
      return next();
    };
    let outer: unknown;
    const before: Middleware = (ctx, next) => {
      outer = ctx;
      return next();
    };
    const client = createClient([before, openTelemetry(), spy, transport]);
    const response = await client.get('http://api.test/items/1', { pathTemplate: '/items/:id' });
    expect(response.status).toBe(200);
    expect(seen).toBe(outer);
    expect(Object.keys(transport.requests[0]!.headers)).not.toContain('traceparent');
  });

  it('still rethrows errors unchanged', async () => {
    const error = new TransportError('refused', 'ECONNREFUSED');
    const client = createClient([openTelemetry(), mockTransport([{ error }])]);
    await expect(client.get('http://api.test/')).rejects.toBe(error);
  });

  it('still injects through a propagator registered without a tracer provider', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CBaggagePropagator());
    try {
      const transport = mockTransport([{ status: 200 }, { status: 200 }]);
      const client = createClient([openTelemetry(), transport]);
      const bag = propagation.createBaggage({ tenant: { value: 'acme' } });
      await context.with(propagation.setBaggage(context.active(), bag), () =>
        client.get('http://api.test/'),
      );
      expect(transport.requests[0]!.headers.baggage).toBe('tenant=acme');
      // Unregistered between two calls of the same client: asked on every pass.
      propagation.disable();
      await context.with(propagation.setBaggage(context.active(), bag), () =>
        client.get('http://api.test/'),
      );
      expect(transport.requests[1]!.headers.baggage).toBeUndefined();
    } finally {
      propagation.disable();
      context.disable();
    }
  });
});

describe('openTelemetry with an SDK', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    );
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    propagation.disable();
    context.disable();
    metrics.disable();
    await provider.shutdown();
  });
  afterEach(() => exporter.reset());

  const spans = () =>
    exporter
      .getFinishedSpans()
      .filter((span) => span.instrumentationScope.name === '@extapi/middleware');

  it('makes one CLIENT span named after the method and template, with the request attributes', async () => {
    const client = createClient([openTelemetry(), mockTransport([{ status: 200 }])]);
    await client.get('https://user:secret@api.test/items/42?api_key=k&page=2', {
      pathTemplate: '/items/:id',
    });
    expect(spans()).toHaveLength(1);
    const span = spans()[0]!;
    expect(span.name).toBe('GET /items/:id');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'server.address': 'api.test',
      'server.port': 443,
      'url.full': 'https://api.test/items/42?api_key=[REDACTED]&page=2',
      'url.scheme': 'https',
      'url.template': '/items/:id',
      'http.response.status_code': 200,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);
  });

  it('names the span after the method alone without a template', async () => {
    const client = createClient([openTelemetry(), mockTransport([{ status: 204 }])]);
    await client.delete('http://api.test:8080/items/42');
    const span = spans()[0]!;
    expect(span.name).toBe('DELETE');
    expect(span.attributes['url.template']).toBeUndefined();
    expect(span.attributes['server.port']).toBe(8080);
  });

  it('uses the given spanName', async () => {
    const client = createClient([
      openTelemetry({ spanName: (ctx) => `call ${ctx.request.url.hostname}` }),
      mockTransport([{ status: 200 }]),
    ]);
    await client.get('http://api.test/');
    expect(spans().map((span) => span.name)).toEqual(['call api.test']);
  });

  it('marks a 503 as an error with error.type "503" and no exception', async () => {
    const client = createClient([openTelemetry(), mockTransport([{ status: 503 }])]);
    await client.get('http://api.test/');
    const span = spans()[0]!;
    expect(span.attributes['http.response.status_code']).toBe(503);
    expect(span.attributes['error.type']).toBe('503');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span.events).toEqual([]);
  });

  it('records a transport error as the exception with error.type its class', async () => {
    const client = createClient([
      openTelemetry(),
      mockTransport([
        { error: new TransportError('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED') },
      ]),
    ]);
    await expect(client.get('http://api.test/')).rejects.toThrow(TransportError);
    const span = spans()[0]!;
    expect(span.attributes['error.type']).toBe('TransportError');
    expect(span.attributes['http.response.status_code']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toContain('ECONNREFUSED');
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    expect(span.events[0]!.attributes!['exception.type']).toBe('ECONNREFUSED');
  });

  it('treats an HttpStatusError from an inner expectStatus as the response status', async () => {
    const client = createClient([openTelemetry(), expectOk, mockTransport([{ status: 404 }])]);
    await expect(client.get('http://api.test/missing')).rejects.toThrow(HttpStatusError);
    const span = spans()[0]!;
    expect(span.attributes['http.response.status_code']).toBe(404);
    expect(span.attributes['error.type']).toBe('404');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('leaves the status unset when the caller aborts', async () => {
    const client = createClient([
      openTelemetry(),
      mockTransport([{ status: 200, delayMs: 5_000 }]),
    ]);
    const controller = new AbortController();
    const call = client.get('http://api.test/slow', { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    const span = spans()[0]!;
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);
    expect(span.attributes['error.type']).toBe('AbortError');
  });

  it('marks a deadline as an error, unlike a caller abort', async () => {
    const client = createClient(
      [openTelemetry(), mockTransport([{ status: 200, delayMs: 5_000 }])],
      { timeoutMs: 20 },
    );
    await expect(client.get('http://api.test/slow')).rejects.toThrow(TimeoutError);
    const span = spans()[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('TimeoutError');
  });

  it('marks the span of a hedge with extapi.hedge; the aborted loser is neither error nor ok', async () => {
    // The first attempt waits (abortably) long past the 1 ms hedge delay; the hedge answers at once.
    const transport = mockTransport([{ status: 200, delayMs: 60_000 }, { status: 200 }]);
    const client = createClient([hedge({ delayMs: 1, budget: false }), openTelemetry(), transport]);
    await client.get('http://api.test/x');
    await new Promise((resolve) => setImmediate(resolve));
    const byHedge = new Map(spans().map((span) => [span.attributes['extapi.hedge'], span]));
    expect([...byHedge.keys()].sort()).toEqual([1, undefined]);
    expect(byHedge.get(1)!.status.code).toBe(SpanStatusCode.UNSET);
    expect(byHedge.get(1)!.attributes['http.response.status_code']).toBe(200);
    expect(byHedge.get(undefined)!.attributes['http.response.status_code']).toBeUndefined();
    expect(byHedge.get(undefined)!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('makes one span per attempt inside retry(), with http.request.resend_count from the second on', async () => {
    const transport = mockTransport([{ status: 503 }, { status: 503 }, { status: 200 }]);
    const client = createClient([
      retry({ maxAttempts: 3, sleep: noSleep }),
      openTelemetry(),
      transport,
    ]);
    const parent = tracer.startSpan('parent');
    await context.with(trace.setSpan(context.active(), parent), () =>
      client.get('http://api.test/x'),
    );
    parent.end();
    const attempts = spans();
    expect(attempts.map((span) => span.attributes['http.request.resend_count'])).toEqual([
      undefined,
      1,
      2,
    ]);
    expect(attempts.map((span) => span.attributes['http.response.status_code'])).toEqual([
      503, 503, 200,
    ]);
    expect(attempts.map((span) => span.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    for (const span of attempts) {
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    }
    // Each attempt carries its own span as parent in its own traceparent.
    expect(transport.requests.map((request) => request.headers.traceparent)).toEqual(
      attempts.map((span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`),
    );
  });

  it('makes one span for the whole call above retry()', async () => {
    const transport = mockTransport([{ status: 503 }, { status: 200 }]);
    const client = createClient([
      openTelemetry(),
      retry({ maxAttempts: 3, sleep: noSleep }),
      transport,
    ]);
    await client.get('http://api.test/x');
    expect(spans()).toHaveLength(1);
    expect(spans()[0]!.attributes['http.response.status_code']).toBe(200);
    const parents = transport.requests.map((request) => request.headers.traceparent);
    expect(new Set(parents).size).toBe(1);
  });

  describe("above retry(), which rethrows the last attempt's own error", () => {
    it('reports three answered 500s through expectStatus as status 500, error.type "500"', async () => {
      const transport = mockTransport([{ status: 500 }]);
      const client = createClient([
        openTelemetry(),
        retry({ maxAttempts: 3, sleep: noSleep, budget: false }),
        expectStatus(),
        transport,
      ]);
      await expect(client.get('http://api.test/x')).rejects.toThrow(HttpStatusError);
      expect(transport.requests).toHaveLength(3);
      expect(spans()).toHaveLength(1);
      const span = spans()[0]!;
      expect(span.attributes['http.response.status_code']).toBe(500);
      expect(span.attributes['error.type']).toBe('500');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    });

    it('reports a call whose every attempt failed with the last error class', async () => {
      const transport = mockTransport([
        { error: new TimeoutError(5, { phase: 'headers' }) },
        { error: new TransportError('reset', 'ECONNRESET') },
      ]);
      const client = createClient([
        openTelemetry(),
        retry({ maxAttempts: 2, sleep: noSleep, budget: false }),
        transport,
      ]);
      await expect(client.get('http://api.test/x')).rejects.toThrow(TransportError);
      const span = spans()[0]!;
      expect(span.attributes['error.type']).toBe('TransportError');
      expect(span.attributes['http.response.status_code']).toBeUndefined();
      expect(span.events[0]!.attributes!['exception.type']).toBe('ECONNRESET');
    });
  });

  it('never puts a secret of the URL or of an error message in a span', async () => {
    const leaky = new Error('connect failed for https://u:pw-secret@api.test/a?sid=sid-secret');
    const client = createClient([
      openTelemetry(),
      mockTransport([{ status: 200 }, { error: leaky }]),
    ]);
    await client.get(
      'https://api.test/v1;api_key=path-secret/items?pwd=pwd-secret#access_token=frag-secret',
    );
    await expect(client.get('https://api.test/b?jwt=jwt-secret')).rejects.toBe(leaky);
    const [ok, failed] = spans();
    expect(ok!.attributes['url.full']).toBe(
      'https://api.test/v1;api_key=[REDACTED]/items?pwd=[REDACTED]#access_token=[REDACTED]',
    );
    expect(failed!.attributes['url.full']).toBe('https://api.test/b?jwt=[REDACTED]');
    expect(
      JSON.stringify([ok!.attributes, failed!.attributes, failed!.events, failed!.status]),
    ).not.toMatch(/-secret/);
    expect(failed!.status.message).toBe('connect failed for https://api.test/a?sid=[REDACTED]');
  });

  it('counts redirect hops in http.request.resend_count', async () => {
    const transport = mockTransport([
      { status: 302, headers: { location: '/b' } },
      { status: 307, headers: { location: '/c' } },
      { status: 200 },
    ]);
    const client = createClient([openTelemetry(), transport]);
    const response = await client.get('http://api.test/a');
    expect(response.url).toBe('http://api.test/c');
    const span = spans()[0]!;
    expect(span.attributes['http.request.resend_count']).toBe(2);
    expect(span.attributes['url.full']).toBe('http://api.test/a');
  });

  it('sets traceparent instead of appending to one the caller sent, and baggage through the global propagator', async () => {
    const transport = mockTransport([{ status: 200 }]);
    const client = createClient([openTelemetry(), transport]);
    const stale = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const withBaggage = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    await context.with(withBaggage, () =>
      client.get('http://api.test/', { headers: { traceparent: stale } }),
    );
    const span = spans()[0]!;
    const headers = transport.requests[0]!.headers;
    expect(headers.traceparent).toBe(
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    );
    expect(headers.baggage).toBe('tenant=acme');
  });

  it('injects through the given propagator', async () => {
    const transport = mockTransport([{ status: 200 }]);
    const injected: string[] = [];
    const client = createClient([
      openTelemetry({
        propagator: {
          inject: (ctx, carrier, setter) => {
            const spanId = trace.getSpanContext(ctx)!.spanId;
            injected.push(spanId);
            setter.set(carrier, 'x-span', spanId);
          },
          extract: (ctx) => ctx,
          fields: () => ['x-span'],
        },
      }),
      transport,
    ]);
    await client.get('http://api.test/');
    expect(transport.requests[0]!.headers['x-span']).toBe(spans()[0]!.spanContext().spanId);
    expect(transport.requests[0]!.headers.traceparent).toBeUndefined();
    expect(injected).toHaveLength(1);
  });

  it('ends the span and leaks no header into the next call when a propagator throws', async () => {
    const transport = mockTransport([{ status: 200 }]);
    let calls = 0;
    const client = createClient([
      openTelemetry({
        propagator: {
          inject: (_ctx, carrier, setter) => {
            if (++calls > 1) return;
            setter.set(carrier, 'x-half', 'written');
            throw new Error('propagator broke');
          },
          extract: (ctx) => ctx,
          fields: () => ['x-half'],
        },
      }),
      transport,
    ]);
    await expect(client.get('http://api.test/')).rejects.toThrow('propagator broke');
    expect(spans()).toHaveLength(1);
    expect(spans()[0]!.status.code).toBe(SpanStatusCode.ERROR);
    await client.get('http://api.test/');
    expect(transport.requests).toHaveLength(1);
    expect(transport.requests[0]!.headers['x-half']).toBeUndefined();
  });

  it('injects nothing with injectHeaders: false', async () => {
    const transport = mockTransport([{ status: 200 }]);
    const client = createClient([openTelemetry({ injectHeaders: false }), transport]);
    await client.get('http://api.test/');
    expect(spans()).toHaveLength(1);
    expect(transport.requests[0]!.headers.traceparent).toBeUndefined();
  });

  it('leaves the caller context headers untouched across attempts (set on a copy)', async () => {
    const seen: Headers[] = [];
    const capture: Middleware = (ctx, next) => {
      seen.push(ctx.request.headers);
      return next();
    };
    const transport = mockTransport([{ status: 200 }]);
    const client = createClient([capture, openTelemetry(), transport]);
    await client.get('http://api.test/');
    expect(seen[0]!.has('traceparent')).toBe(false);
    expect(transport.requests[0]!.headers.traceparent).toBeDefined();
  });

  it('runs what is below it with tracing suppressed, unless told not to', async () => {
    const inner: Span[] = [];
    const probe: Middleware = (_ctx, next) => {
      const span = tracer.startSpan('inner');
      inner.push(span);
      span.end();
      return next();
    };
    await createClient([openTelemetry(), probe, mockTransport([{ status: 200 }])]).get(
      'http://api.test/',
    );
    await createClient([
      openTelemetry({ suppressInstrumentation: false }),
      probe,
      mockTransport([{ status: 200 }]),
    ]).get('http://api.test/');
    expect(
      inner.map((span) => span.isRecording() || span.spanContext().traceId !== '0'.repeat(32)),
    ).toEqual([false, true]);
    const [, second] = spans();
    const recorded = exporter.getFinishedSpans().find((span) => span.name === 'inner')!;
    expect(recorded.parentSpanContext?.spanId).toBe(second!.spanContext().spanId);
  });

  it('uses a provider registered after the middleware was created', async () => {
    trace.disable();
    const middleware = openTelemetry();
    trace.setGlobalTracerProvider(provider);
    await createClient([middleware, mockTransport([{ status: 200 }])]).get('http://api.test/');
    expect(spans()).toHaveLength(1);
  });

  it('uses the given tracer', async () => {
    const own = new InMemorySpanExporter();
    const ownProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] });
    const client = createClient([
      openTelemetry({ tracer: ownProvider.getTracer('mine') }),
      mockTransport([{ status: 200 }]),
    ]);
    await client.get('http://api.test/');
    expect(own.getFinishedSpans().map((span) => span.name)).toEqual(['GET']);
    expect(spans()).toHaveLength(0);
  });

  describe('http.client.request.duration', () => {
    it('records seconds with the advised buckets and the attributes of the conventions', async () => {
      const reader = new TestReader();
      const meterProvider = new MeterProvider({ readers: [reader] });
      const client = createClient([
        openTelemetry({ meter: meterProvider.getMeter('test') }),
        mockTransport([
          { status: 200, delayMs: 20 },
          { status: 503 },
          { error: new TransportError('reset', 'ECONNRESET') },
        ]),
      ]);
      await client.get('https://api.test/items/1', { pathTemplate: '/items/:id' });
      await client.post('https://api.test/items', { json: {} });
      await expect(client.get('http://api.test:8080/')).rejects.toThrow(TransportError);

      const { descriptor, points } = await durationPoints(reader);
      expect(descriptor.unit).toBe('s');
      expect(points.map((point) => point.attributes)).toEqual([
        {
          'http.request.method': 'GET',
          'server.address': 'api.test',
          'server.port': 443,
          'url.scheme': 'https',
          'http.response.status_code': 200,
        },
        {
          'http.request.method': 'POST',
          'server.address': 'api.test',
          'server.port': 443,
          'url.scheme': 'https',
          'http.response.status_code': 503,
          'error.type': '503',
        },
        {
          'http.request.method': 'GET',
          'server.address': 'api.test',
          'server.port': 8080,
          'url.scheme': 'http',
          'error.type': 'TransportError',
        },
      ]);
      for (const point of points) {
        expect(point.value.buckets.boundaries).toEqual([...DURATION_BUCKETS]);
        expect(point.value.count).toBe(1);
      }
      // 20 ms (plus scheduling) is in seconds, not milliseconds.
      expect(points[0]!.value.sum).toBeGreaterThanOrEqual(0.015);
      expect(points[0]!.value.sum).toBeLessThan(5);
      await meterProvider.shutdown();
    });

    it('uses the global meter provider, even one registered after the middleware was created', async () => {
      const middleware = openTelemetry();
      const reader = new TestReader();
      const meterProvider = new MeterProvider({ readers: [reader] });
      metrics.setGlobalMeterProvider(meterProvider);
      try {
        await createClient([middleware, mockTransport([{ status: 200 }])]).get('http://api.test/');
        const { points } = await durationPoints(reader);
        expect(points.map((point) => point.value.count)).toEqual([1]);
      } finally {
        metrics.disable();
        await meterProvider.shutdown();
      }
    });

    it('records nothing with meter: false', async () => {
      const reader = new TestReader();
      const meterProvider = new MeterProvider({ readers: [reader] });
      metrics.setGlobalMeterProvider(meterProvider);
      try {
        await createClient([openTelemetry({ meter: false }), mockTransport([{ status: 200 }])]).get(
          'http://api.test/',
        );
        const { resourceMetrics } = await reader.collect();
        expect(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)).toEqual([]);
        expect(spans()).toHaveLength(1);
      } finally {
        metrics.disable();
        await meterProvider.shutdown();
      }
    });
  });
});

describe('openTelemetry options', () => {
  it.each([
    ['tracer', 'without startSpan', { tracer: {} }],
    ['propagator', 'without inject', { propagator: {} }],
    ['meter', 'without createHistogram', { meter: {} }],
    ['spanName', 'that is a string', { spanName: 'GET' }],
    ['injectHeaders', 'that is a string', { injectHeaders: 'yes' }],
    ['suppressInstrumentation', 'that is a number', { suppressInstrumentation: 1 }],
  ])('rejects a %s %s at creation with a ConfigError naming it', (option, _label, options) => {
    let error: unknown;
    try {
      openTelemetry(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as ConfigError).option).toBe(option);
  });
});

describe('openTelemetry options, read with the options kit', () => {
  it('refuses an unknown option with the nearest known one', () => {
    expect(() => openTelemetry({ injectHeader: false } as never)).toThrow(
      /injectHeader.*did you mean injectHeaders\?/,
    );
  });

  it('reads only own properties: a polluted injectHeaders or spanName changes nothing', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const transport = mockTransport([{ status: 200 }]);
    let middleware: Middleware;
    try {
      proto.injectHeaders = false;
      proto.spanName = () => 'polluted';
      proto.meter = false;
      middleware = openTelemetry({
        tracer: provider.getTracer('t'),
        propagator: new W3CTraceContextPropagator(),
      });
    } finally {
      for (const name of ['injectHeaders', 'spanName', 'meter']) delete proto[name];
    }
    await createClient([middleware, transport]).get('http://api.test/a');
    expect(transport.requests[0]!.headers.traceparent).toMatch(/^00-/);
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['GET']);
    await provider.shutdown();
  });
});
