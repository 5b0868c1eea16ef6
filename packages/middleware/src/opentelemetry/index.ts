// openTelemetry(): one CLIENT span per pass, with HTTP semantic-convention attributes, W3C trace context
// injected, and the http.client.request.duration histogram. Below retry() a span per attempt; above it, per call.
import {
  defineMiddleware,
  isHttpStatusError,
  isTimeoutError,
  redactText,
  type Context,
  type HttpResponse,
  type Middleware,
  type Next,
} from '@extapi/core';
import {
  context as otelContext,
  createContextKey,
  createNoopMeter,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  metrics,
  propagation,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context as OtelContext,
  type Histogram,
  type MeterProvider,
  type Span,
  type SpanOptions,
  type TextMapSetter,
} from '@opentelemetry/api';
import { hedgeNumber } from '../hedge/mark.js';
import {
  DURATION_BUCKETS,
  errorType,
  redirectHops,
  requestAttributes,
  semconvMethod,
  serverPort,
} from './attributes.js';
import { type OpenTelemetryOptions, resolveOpenTelemetryOptions } from './options.js';

export {
  defaultSpanName,
  DURATION_BUCKETS,
  errorType,
  fullUrl,
  redirectHops,
  requestAttributes,
  semconvMethod,
  serverPort,
  type RequestAttributes,
} from './attributes.js';
export {
  DEFAULT_OPEN_TELEMETRY_OPTIONS,
  type OpenTelemetryOptions,
  resolveOpenTelemetryOptions,
} from './options.js';

const SCOPE = '@extapi/middleware';
// The key @opentelemetry/core's suppressTracing() sets (createContextKey is Symbol.for), read by the SDK
// tracer, the W3C propagators and every instrumentation; core itself is not a dependency of ours.
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');
const SPAN_OPTIONS: SpanOptions = Object.freeze({ kind: SpanKind.CLIENT });
const NOOP_HISTOGRAM = createNoopMeter().createHistogram('noop');
// What the API's tracer provider (a proxy) delegates to while no SDK is registered.
const NO_SDK = new ProxyTracerProvider().getDelegate();
const HISTOGRAM_OPTIONS = {
  description: 'Duration of HTTP client requests.',
  unit: 's',
  advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
};

/**
 * Whether neither an SDK's tracer provider nor a propagator is registered globally: a span would be
 * the API's no-op and nothing would be injected. Asked on every pass, so one registered later counts.
 */
function nothingRegistered(): boolean {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  return provider.getDelegate?.() === NO_SDK && propagation.fields().length === 0;
}

// Propagators write here synchronously and we read it back at once, so one array serves every call
// and a pass without anything to inject allocates nothing.
const pending: string[] = [];
const pendingSetter: TextMapSetter<string[]> = {
  set(carrier, key, value) {
    carrier.push(key, value);
  },
};

function metricAttributes(
  ctx: Context,
  status: number | undefined,
  error: string | undefined,
): Attributes {
  const { method, url } = ctx.request;
  const attributes: Attributes = {
    'http.request.method': semconvMethod(method),
    'server.address': url.hostname,
    'server.port': serverPort(url),
    'url.scheme': url.protocol.slice(0, -1),
  };
  if (status !== undefined) attributes['http.response.status_code'] = status;
  if (error !== undefined) attributes['error.type'] = error;
  return attributes;
}

/**
 * Traces every pass as one span of kind CLIENT, named `{METHOD} {pathTemplate}` (or `{METHOD}`), with
 * `http.request.method`, `server.address`, `server.port`, `url.full` (no userinfo, secret query values
 * redacted), `url.scheme`, `url.template`, `http.response.status_code`, `http.request.resend_count`
 * (attempts and redirect hops before this one) and `error.type` (the status for ≥ 400, else the error's
 * class), and `extapi.hedge` (1, 2…) on the span of a hedge `hedge()` sent. Status ERROR for ≥ 400
 * and for errors, with the exception recorded; a caller's abort (or a hedge race lost) leaves it
 * unset. The W3C trace context is set (not appended) on the request of the pass, and the transport runs
 * with tracing suppressed so instrumentation-undici adds no second span or header. With a meter (or a
 * global meter provider) it records `http.client.request.duration` in seconds.
 *
 * Place it inside `retry()` for the span per attempt the conventions recommend; above `retry()` one
 * span covers the whole call. The span ends when the response headers (and, with `readBody`, the body)
 * arrived. Without a registered SDK a pass costs a no-op span and nothing else; with nothing
 * registered globally (no tracer provider, propagator or meter provider) and no `tracer` or
 * `propagator` given, not even that: a check of the three, and `next()`.
 * State: the tracer and histogram are shared by every call through this middleware; spans are per pass.
 * @example
 * const client = createClient([retry(), openTelemetry(), undiciTransport()]);
 * await client.get('https://api.example.com/items/42', { pathTemplate: '/items/:id' });
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Middleware {
  const resolved = resolveOpenTelemetryOptions(options);
  const { propagator, spanName, injectHeaders, meter, suppressInstrumentation } = resolved;
  // The global API's tracer is a proxy, so a provider registered after this line is still used.
  const tracer = resolved.tracer ?? trace.getTracer(SCOPE);

  const fixedHistogram = meter
    ? meter.createHistogram('http.client.request.duration', HISTOGRAM_OPTIONS)
    : undefined;
  let globalProvider: MeterProvider | undefined;
  let globalHistogram: Histogram = NOOP_HISTOGRAM;
  // The global metrics API has no proxy: follow the registered provider, so one set later still counts.
  function histogram(): Histogram | undefined {
    if (meter === false) return undefined;
    let result = fixedHistogram;
    if (result === undefined) {
      const provider = metrics.getMeterProvider();
      if (provider !== globalProvider) {
        globalProvider = provider;
        globalHistogram = provider
          .getMeter(SCOPE)
          .createHistogram('http.client.request.duration', HISTOGRAM_OPTIONS);
      }
      result = globalHistogram;
    }
    return result === NOOP_HISTOGRAM ? undefined : result;
  }

  /** The context of the pass with the trace context set on a copy of its headers, or `ctx` when nothing to set. */
  function inject(ctx: Context, carrier: OtelContext): Context {
    if (!injectHeaders) return ctx;
    try {
      if (propagator) propagator.inject(carrier, pending, pendingSetter);
      else propagation.inject(carrier, pending, pendingSetter);
      if (pending.length === 0) return ctx;
      const pass = ctx.clone();
      for (let i = 0; i < pending.length; i += 2)
        pass.request.headers.set(pending[i]!, pending[i + 1]!);
      return pass;
    } finally {
      // Emptied even when a propagator throws half-way, so nothing leaks into the next call.
      pending.length = 0;
    }
  }

  // Only the global API's: a tracer or propagator given here is used as it is.
  const globalOnly = resolved.tracer === undefined && propagator === undefined;

  // Not async: without an SDK a pass is a span that is never recorded, and next().
  const middleware: Middleware = function openTelemetry(ctx, next) {
    const durations = histogram();
    // Nothing registered at all: no span to start, no header to inject, no duration to record.
    if (globalOnly && durations === undefined && nothingRegistered()) return next(ctx);
    const parent = otelContext.active();
    const span = tracer.startSpan(spanName(ctx), SPAN_OPTIONS, parent);
    const recording = span.isRecording();
    const spanContext = span.spanContext();
    // The no-op tracer's span without a parent carries the shared invalid context: no id to check.
    const noContext = spanContext === INVALID_SPAN_CONTEXT || !isSpanContextValid(spanContext);
    if (!recording && durations === undefined && noContext) {
      // No SDK (or suppressed): nothing to time or describe; a propagator may still carry baggage.
      span.end();
      return next(inject(ctx, parent));
    }
    return traced(ctx, next, parent, span, recording, durations);
  };
  return defineMiddleware(middleware, { name: 'openTelemetry' });

  async function traced(
    ctx: Context,
    next: Next,
    parent: OtelContext,
    span: Span,
    recording: boolean,
    durations: Histogram | undefined,
  ): Promise<HttpResponse> {
    const start = performance.now();
    if (recording) {
      span.setAttributes(
        requestAttributes(ctx.request, ctx.meta.pathTemplate) as unknown as Attributes,
      );
      if (ctx.attempt > 1) span.setAttribute('http.request.resend_count', ctx.attempt - 1);
      const hedge = hedgeNumber(ctx);
      if (hedge > 0) span.setAttribute('extapi.hedge', hedge);
    }
    const withSpan = trace.setSpan(parent, span);
    const redirectsBefore = ctx.call.redirectCount;
    let status: number | undefined;
    let failure: string | undefined;
    try {
      // Inside the try, so that a propagator that throws still ends the span.
      const pass = inject(ctx, withSpan);
      const response: HttpResponse = await otelContext.with(
        suppressInstrumentation ? withSpan.setValue(SUPPRESS_TRACING, true) : withSpan,
        next,
        undefined,
        pass,
      );
      status = response.status;
      if (status >= 400) failure = String(status);
      if (recording) {
        span.setAttribute('http.response.status_code', status);
        const hops = redirectHops(pass, redirectsBefore, response.url);
        if (hops > 0) span.setAttribute('http.request.resend_count', ctx.attempt - 1 + hops);
        const version = (response.raw as { httpVersion?: unknown } | null | undefined)?.httpVersion;
        if (typeof version === 'string') span.setAttribute('network.protocol.version', version);
        if (failure !== undefined) {
          span.setAttribute('error.type', failure);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      return response;
    } catch (error) {
      // An HttpStatusError from an inner expectStatus still means a response arrived.
      if (isHttpStatusError(error)) status = error.status;
      failure = status !== undefined && status >= 400 ? String(status) : errorType(error);
      if (recording) {
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        span.setAttribute('error.type', failure);
        // The caller's own abort is not an upstream failure; a deadline (TimeoutError) is.
        const callerAbort = ctx.scope.aborted && !isTimeoutError(ctx.scope.reason);
        if (!callerAbort) {
          // Errors of other libraries may quote a URL with its secrets: the span gets it redacted.
          const message = redactText(error instanceof Error ? error.message : String(error));
          span.recordException(
            error instanceof Error
              ? {
                  code: (error as { code?: string | number }).code,
                  name: error.name,
                  message,
                  stack: error.stack && redactText(error.stack),
                }
              : message,
          );
          span.setStatus({ code: SpanStatusCode.ERROR, message });
        }
      }
      throw error;
    } finally {
      span.end();
      durations?.record((performance.now() - start) / 1000, metricAttributes(ctx, status, failure));
    }
  }
}
