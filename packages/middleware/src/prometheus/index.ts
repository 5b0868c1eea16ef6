// prometheusMetrics(): the old library's four request metrics (counters and histograms) in prom-client.
// Outside retry() it counts calls; inside it, attempts. prom-client is imported only from this subpath.
import {
  ConfigError,
  defineMiddleware,
  isHttpStatusError,
  type Context,
  type Logger,
  type Middleware,
  type OptionSpec,
  option,
  readOptions,
  redactPath,
} from '@extapi/core';
import { register, type Registry, type RegistryContentType } from 'prom-client';
import { createPathCap, errorClassName } from './labels.js';
import { createResponseIndex, type OriginLabels, originLabels } from './response-index.js';
import { SeriesStore, storeOf, type Totals } from './series.js';

export { createPathCap, effectivePort, errorClassName, OTHER_PATH } from './labels.js';

/** Options of {@link prometheusMetrics}. Every field is optional. */
export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. Two middleware on one registry with one prefix share them. @default prom-client's global `register` */
  registry?: Registry<RegistryContentType>;
  /** Prepended to every metric name, e.g. `billing_`. @default '' */
  prefix?: string;
  /** Histogram upper bounds in seconds (`+Inf` is implicit). Ignored when the metrics already exist. @default DEFAULT_BUCKETS */
  buckets?: readonly number[];
  /** The most distinct `path` label values; new paths past it are labelled `other`. @default 1000 */
  maxPathValues?: number;
  /** Receives the one-time warning about calls without `pathTemplate`. @default process.emitWarning */
  logger?: Logger;
}

/** The old library's histogram buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 7.5, 10, 12.5, 15, 17.5, 20, 22.5, 25, 27.5, 30,
]);

/** Defaults of {@link prometheusMetrics}. */
export const DEFAULT_PROMETHEUS_METRICS_OPTIONS = Object.freeze({
  /** @see PrometheusMetricsOptions.prefix */
  prefix: '',
  /** @see PrometheusMetricsOptions.buckets */
  buckets: DEFAULT_BUCKETS,
  /** @see PrometheusMetricsOptions.maxPathValues */
  maxPathValues: 1000,
});

const REQUEST_LABELS = ['scheme', 'domain', 'port', 'method', 'path', 'status'] as const;
const ERROR_LABELS = ['scheme', 'domain', 'port', 'method', 'path', 'error_type'] as const;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const PROMETHEUS_METRICS_SPEC = {
  /** @see PrometheusMetricsOptions.registry */
  registry: (value: unknown, name: string): Registry<RegistryContentType> => {
    const registry = (value ?? register) as Partial<Registry<RegistryContentType>>;
    if (
      typeof registry !== 'object' ||
      registry === null ||
      typeof registry.getSingleMetric !== 'function' ||
      typeof registry.registerMetric !== 'function'
    ) {
      throw new ConfigError(name, value, 'expected a prom-client Registry');
    }
    return registry as Registry<RegistryContentType>;
  },
  /** @see PrometheusMetricsOptions.prefix */
  prefix: (value: unknown, name: string): string => {
    const prefix = option.string(DEFAULT_PROMETHEUS_METRICS_OPTIONS.prefix, true)(value, name);
    if (prefix !== '' && !METRIC_NAME.test(prefix)) {
      throw new ConfigError(
        name,
        prefix,
        'expected a metric name prefix of letters, digits, _ and :',
      );
    }
    return prefix;
  },
  /** @see PrometheusMetricsOptions.buckets */
  buckets: (value: unknown, name: string): number[] => {
    const buckets = value ?? DEFAULT_PROMETHEUS_METRICS_OPTIONS.buckets;
    if (
      !Array.isArray(buckets) ||
      buckets.length === 0 ||
      !buckets.every(
        (bound: unknown, i) =>
          typeof bound === 'number' &&
          Number.isFinite(bound) &&
          (i === 0 || bound > (buckets[i - 1] as number)),
      )
    ) {
      throw new ConfigError(
        name,
        value,
        'expected a non-empty array of finite, increasing numbers',
      );
    }
    return [...buckets] as number[];
  },
  /** @see PrometheusMetricsOptions.maxPathValues */
  maxPathValues: option.integer({
    min: 1,
    default: DEFAULT_PROMETHEUS_METRICS_OPTIONS.maxPathValues,
  }),
  /** @see PrometheusMetricsOptions.logger */
  logger: option.logger<Logger>(['warn']),
} satisfies OptionSpec<PrometheusMetricsOptions>;

/**
 * Validates the options once, at creation: own properties only, an unknown key is refused with
 * the nearest known one. An explicit `undefined` means the default.
 * @throws ConfigError naming the option and the value
 * @example
 * resolvePrometheusMetricsOptions({ prefix: 'billing_' }).maxPathValues; // 1000
 */
export function resolvePrometheusMetricsOptions(options: PrometheusMetricsOptions = {}) {
  return readOptions('prometheusMetrics()', options, PROMETHEUS_METRICS_SPEC);
}

/**
 * The store of a counter and a histogram already registered by another prometheusMetrics() with the
 * same registry and prefix, or a new one registered now.
 */
function storeFor(
  registry: Registry<RegistryContentType>,
  names: { total: string; duration: string },
  help: { total: string; duration: string },
  labelNames: readonly string[],
  buckets: readonly number[],
): SeriesStore {
  const total = registry.getSingleMetric(names.total);
  const duration = registry.getSingleMetric(names.duration);
  if (total === undefined && duration === undefined) {
    return new SeriesStore(registry, names, help, labelNames, buckets);
  }
  const store = storeOf(total);
  if (
    store === undefined ||
    storeOf(duration) !== store ||
    store.labelNames.join() !== labelNames.join()
  ) {
    throw new ConfigError(
      'prefix',
      total === undefined ? names.duration : names.total,
      'a metric of this name is already registered, by something other than prometheusMetrics() or with other labels',
    );
  }
  return store;
}

/**
 * Records every request in the old library's four Prometheus metrics (names and labels unchanged,
 * so existing dashboards keep working):
 * - `<prefix>external_service_request_total` (counter) and `<prefix>external_service_request_duration_seconds`
 *   (histogram), labels `scheme`, `domain`, `port`, `method`, `path`, `status`, for every response;
 * - `<prefix>external_service_errored_request_total` (counter) and
 *   `<prefix>external_service_errored_request_duration_seconds` (histogram), labels `scheme`, `domain`,
 *   `port`, `method`, `path`, `error_type` (the error's class name), for calls that got no response.
 *
 * An `HttpStatusError` (from `expectStatus` below this middleware) counts as a response with its status,
 * not as an error: a response was received, as the old library counted it. `port` is the effective port
 * (80/443 when the URL has none). `path` is the call's `pathTemplate`; without one the raw path is used,
 * with a one-time warning per middleware, and past `maxPathValues` distinct values new paths become `other`.
 *
 * State: the metrics live in the registry and are shared by every middleware with the same registry and
 * prefix (the first one's buckets win); the path cap belongs to this middleware. A call adds to plain
 * numbers per label set, which the registry reads when it is scraped (`registry.metrics()`), so the
 * metrics are registered as prom-client metric objects of this package's own (not prom-client's
 * `Counter` and `Histogram`, which hash the labels on every call); a metric of the same name
 * registered by anything else is a `ConfigError`.
 * Placed above `retry()` it counts calls, below it attempts.
 * @example
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const client = createClient([prometheusMetrics({ registry, prefix: 'billing_' }), undiciTransport()]);
 * await client.get('https://api.example.com/items/42', { pathTemplate: '/items/:id' });
 * console.log(await registry.metrics());
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): Middleware {
  const { registry, prefix, buckets, maxPathValues, logger } =
    resolvePrometheusMetricsOptions(options);
  const responses = storeFor(
    registry,
    {
      total: `${prefix}external_service_request_total`,
      duration: `${prefix}external_service_request_duration_seconds`,
    },
    {
      total: 'Requests to external services that got a response, by status.',
      duration: 'Duration of requests to external services that got a response, in seconds.',
    },
    REQUEST_LABELS,
    buckets,
  );
  const errors = storeFor(
    registry,
    {
      total: `${prefix}external_service_errored_request_total`,
      duration: `${prefix}external_service_errored_request_duration_seconds`,
    },
    {
      total: 'Requests to external services that failed without a response, by error class.',
      duration:
        'Duration of requests to external services that failed without a response, in seconds.',
    },
    ERROR_LABELS,
    buckets,
  );

  const capPath = createPathCap(maxPathValues);
  let warned = false;

  function warnRawPath(ctx: Context): void {
    warned = true;
    const path = redactPath(ctx.request.url.pathname);
    const message =
      'prometheusMetrics: a call without pathTemplate is labelled with its raw path; pass pathTemplate ' +
      `(e.g. '/items/:id') to keep the path label low-cardinality (first one: ${ctx.request.method} ${path})`;
    if (logger) logger.warn({ method: ctx.request.method, path }, message);
    else process.emitWarning(message, { type: 'ExtapiWarning', code: 'EXTAPI_NO_PATH_TEMPLATE' });
  }

  function pathOf(ctx: Context): string {
    const template = ctx.meta.pathTemplate;
    if (typeof template === 'string' && template !== '') return capPath(template);
    if (!warned) warnRawPath(ctx);
    // A raw path may carry `;api_key=…` parameters: never a label.
    return capPath(redactPath(ctx.request.url.pathname));
  }

  // The totals of one label set: found by its key in the store (shared with any other middleware on
  // the same registry and prefix), or added there.
  function keyed(
    store: SeriesStore,
    origin: OriginLabels,
    method: string,
    path: string,
    outcome: string,
    errored: boolean,
  ): Totals {
    const key = `${method} ${origin.prefix} ${path} ${outcome}`;
    return (
      store.get(key) ??
      store.add(key, {
        scheme: origin.scheme,
        domain: origin.domain,
        port: origin.port,
        method,
        path,
        [errored ? 'error_type' : 'status']: outcome,
      })
    );
  }

  const responseTotals = createResponseIndex(responses, (origin, method, path, status) =>
    keyed(responses, origin, method, path, String(status), false),
  );

  function recordResponse(ctx: Context, status: number, seconds: number): void {
    responses.observe(responseTotals(ctx.request, pathOf(ctx), status), seconds);
  }

  function recordError(ctx: Context, error: unknown, seconds: number): void {
    const { method, url } = ctx.request;
    const origin = originLabels(url);
    errors.observe(
      keyed(errors, origin, method, pathOf(ctx), errorClassName(error), true),
      seconds,
    );
  }

  // Not async: one `.then`, not an async frame.
  const middleware: Middleware = function prometheusMetrics(ctx, next) {
    const start = performance.now();
    return next().then(
      (response) => {
        recordResponse(ctx, response.status, (performance.now() - start) / 1000);
        return response;
      },
      (error: unknown) => {
        const seconds = (performance.now() - start) / 1000;
        if (isHttpStatusError(error)) recordResponse(ctx, error.status, seconds);
        else recordError(ctx, error, seconds);
        throw error;
      },
    );
  };
  return defineMiddleware(middleware, { name: 'prometheusMetrics' });
}
