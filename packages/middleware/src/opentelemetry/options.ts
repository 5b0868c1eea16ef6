// The options of openTelemetry(): the public type, its defaults, and the one function that validates
// them. Everything here runs once, when openTelemetry() is called, never per pass.
import {
  ConfigError,
  type Context,
  type OptionCheck,
  type OptionSpec,
  option,
  readOptions,
} from '@extapi/core';
import type { Meter, TextMapPropagator, Tracer } from '@opentelemetry/api';
import { defaultSpanName } from './attributes.js';

/** Options of `openTelemetry()`. Every field is optional. */
export interface OpenTelemetryOptions {
  /** Makes the spans. @default the global tracer provider's tracer `@extapi/middleware` */
  tracer?: Tracer;
  /** Injects the trace context into the request headers. @default the global propagator */
  propagator?: TextMapPropagator;
  /** The span name of a pass. @default `{METHOD} {pathTemplate}`, or `{METHOD}` without a template */
  spanName?: (ctx: Context) => string;
  /** Set `traceparent` (and `tracestate`, `baggage`) on the request of each pass. @default true */
  injectHeaders?: boolean;
  /** Records `http.client.request.duration`; `false` records nothing. @default the global meter provider's meter */
  meter?: Meter | false;
  /**
   * Runs everything below this middleware with tracing suppressed, so that
   * @opentelemetry/instrumentation-undici (which also sees global fetch) adds no second span and no
   * second `traceparent`. Spans that inner middleware would start are suppressed too. @default true
   */
  suppressInstrumentation?: boolean;
}

/** Defaults of `openTelemetry()`. */
export const DEFAULT_OPEN_TELEMETRY_OPTIONS = Object.freeze({
  /** @see OpenTelemetryOptions.spanName */
  spanName: defaultSpanName,
  /** @see OpenTelemetryOptions.injectHeaders */
  injectHeaders: true,
  /** @see OpenTelemetryOptions.suppressInstrumentation */
  suppressInstrumentation: true,
});

/** An object with the method `method`, as an OpenTelemetry API object is recognised. */
function apiObject<T>(method: string, expected: string): OptionCheck<T | undefined> {
  return (value, name) => {
    if (value === undefined) return undefined;
    if (
      typeof value !== 'object' ||
      value === null ||
      typeof (value as Record<string, unknown>)[method] !== 'function'
    ) {
      throw new ConfigError(name, value, `expected ${expected}`);
    }
    return value as T;
  };
}

const OPEN_TELEMETRY_SPEC = {
  /** @see OpenTelemetryOptions.tracer */
  tracer: apiObject<Tracer>('startSpan', 'an OpenTelemetry Tracer'),
  /** @see OpenTelemetryOptions.propagator */
  propagator: apiObject<TextMapPropagator>('inject', 'an OpenTelemetry TextMapPropagator'),
  /** @see OpenTelemetryOptions.spanName */
  spanName: option.fn<(ctx: Context) => string, (ctx: Context) => string>(
    DEFAULT_OPEN_TELEMETRY_OPTIONS.spanName,
  ),
  /** @see OpenTelemetryOptions.injectHeaders */
  injectHeaders: option.boolean(DEFAULT_OPEN_TELEMETRY_OPTIONS.injectHeaders),
  /** @see OpenTelemetryOptions.meter */
  meter: (value: unknown, name: string): Meter | false | undefined =>
    value === false
      ? false
      : apiObject<Meter>('createHistogram', 'an OpenTelemetry Meter or false')(value, name),
  /** @see OpenTelemetryOptions.suppressInstrumentation */
  suppressInstrumentation: option.boolean(DEFAULT_OPEN_TELEMETRY_OPTIONS.suppressInstrumentation),
} satisfies OptionSpec<OpenTelemetryOptions>;

/**
 * Validates the options once, at creation: own properties only (a polluted `Object.prototype`
 * cannot turn off `injectHeaders`), an unknown key is refused with the nearest known one. An
 * explicit `undefined` means the default.
 * @throws ConfigError naming the option and the value
 * @example
 * resolveOpenTelemetryOptions({ injectHeaders: false }).suppressInstrumentation; // true
 */
export function resolveOpenTelemetryOptions(options: OpenTelemetryOptions = {}) {
  return readOptions('openTelemetry()', options, OPEN_TELEMETRY_SPEC);
}
