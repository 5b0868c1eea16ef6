import type { IncomingMessage } from 'node:http';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { createClient, type Transport, TransportError } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { retry } from '../retry/index.js';
import { openTelemetry } from './index.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

/** Every `traceparent` header line of a request, as sent on the wire (repeated lines counted apart). */
function traceparents(req: IncomingMessage): string[] {
  const found: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'traceparent') found.push(req.rawHeaders[i + 1]!);
  }
  return found;
}

let server: TestServer;
/** The traceparent lines of each request the server received, in order. */
let received: string[][] = [];
/** Statuses the server answers with, one per request; 200 once used up. */
let script: number[] = [];

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  server = await startTestServer((req, res) => {
    received.push(traceparents(req));
    if (req.url === '/slow') return; // never answers; the caller aborts
    res.statusCode = script.shift() ?? 200;
    res.end('ok');
  });
});
afterAll(async () => {
  await server.close();
  trace.disable();
  propagation.disable();
  context.disable();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  received = [];
  script = [];
});

const transports: [string, () => Transport][] = [
  ['undici', () => undiciTransport()],
  ['fetch', () => fetchTransport()],
];

describe.each(transports)('openTelemetry over the %s transport', (_name, makeTransport) => {
  let transport: Transport;
  beforeEach(() => {
    transport = makeTransport();
  });
  afterEach(() => transport.close());

  it('sends exactly one traceparent whose trace and parent span ids are the exported span', async () => {
    const client = createClient([openTelemetry(), transport], { baseUrl: server.url });
    const response = await client.get('/items/7', { pathTemplate: '/items/:id' });
    expect(response.status).toBe(200);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(received).toEqual([
      [`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`],
    ]);
    expect(span.name).toBe('GET /items/:id');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': server.port,
      'url.full': `${server.url}/items/7`,
      'url.scheme': 'http',
      'url.template': '/items/:id',
      'http.response.status_code': 200,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('marks a refused connection as an error with the exception recorded', async () => {
    const closed = await startTestServer((_req, res) => {
      res.end();
    });
    await closed.close();
    const client = createClient([openTelemetry(), transport]);
    await expect(client.get(`${closed.url}/`)).rejects.toThrow(TransportError);
    const span = exporter.getFinishedSpans()[0]!;
    expect(span.attributes['error.type']).toBe('TransportError');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('leaves the status unset when the caller aborts a request in flight', async () => {
    const client = createClient([openTelemetry(), transport], { baseUrl: server.url });
    const controller = new AbortController();
    const call = client.get('/slow', { signal: controller.signal });
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    const span = exporter.getFinishedSpans()[0]!;
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);
  });

  describe('with @opentelemetry/instrumentation-undici registered', () => {
    let instrumentation: UndiciInstrumentation;
    beforeAll(() => {
      instrumentation = new UndiciInstrumentation();
      instrumentation.setTracerProvider(provider);
      instrumentation.enable();
    });
    afterAll(() => instrumentation.disable());

    it('still makes one span and sends one traceparent per attempt', async () => {
      script = [503, 200];
      const client = createClient(
        [retry({ maxAttempts: 2, sleep: () => Promise.resolve() }), openTelemetry(), transport],
        { baseUrl: server.url },
      );
      expect((await client.get('/x')).status).toBe(200);
      const spans = exporter.getFinishedSpans();
      expect(spans.map((span) => span.instrumentationScope.name)).toEqual([
        '@extapi/middleware',
        '@extapi/middleware',
      ]);
      expect(spans.map((span) => span.attributes['http.request.resend_count'])).toEqual([
        undefined,
        1,
      ]);
      expect(received).toEqual(
        spans.map((span) => [`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`]),
      );
    });

    // The control: without suppression the instrumentation does add its own span and header,
    // so the test above would see it if the suppression did not work.
    it('would get a second span and header from the instrumentation without suppression', async () => {
      const client = createClient([openTelemetry({ suppressInstrumentation: false }), transport], {
        baseUrl: server.url,
      });
      await client.get('/x');
      const scopes = exporter.getFinishedSpans().map((span) => span.instrumentationScope.name);
      expect(scopes.sort()).toEqual([
        '@extapi/middleware',
        '@opentelemetry/instrumentation-undici',
      ]);
      expect(received[0]).toHaveLength(2);
    });
  });
});
