// The request metrics as plain numbers per label set, which prom-client's registry reads when it is
// scraped. A call adds to three numbers; prom-client's own Counter and Histogram would validate and
// hash the labels object on every inc() and observe() (about 1.8 µs a call, measured in bench/).
import type { Registry, RegistryContentType } from 'prom-client';

/** Label values by name, in the order of the metric's label names. */
export type Labels = Record<string, string>;

/** The running totals of one label set: the counter is `count`, the histogram all three. */
export class Totals {
  count = 0;
  /** Seconds observed, summed. */
  sum = 0;
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  readonly buckets: Float64Array;

  constructor(
    readonly labels: Labels,
    bucketCount: number,
  ) {
    this.buckets = new Float64Array(bucketCount + 1);
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * A counter and a histogram over the same label sets, always updated together (a response's or an
 * error's count and duration), registered in a prom-client registry as two metrics it reads with
 * `get()`, like its own. Two middleware on one registry with one prefix share one store.
 */
export class SeriesStore {
  readonly #totals = new Map<string, Totals>();
  /** Bumped when the registry resets the metrics: totals handed out before then are stale. */
  generation = 0;
  readonly bounds: readonly number[];
  readonly labelNames: readonly string[];

  constructor(
    registry: Registry<RegistryContentType>,
    names: { total: string; duration: string },
    help: { total: string; duration: string },
    labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    this.bounds = bounds;
    this.labelNames = labelNames;
    const common = {
      aggregator: 'sum',
      labelNames,
      store: this,
      reset: () => {
        this.#totals.clear();
        this.generation++;
      },
    };
    const counter = {
      ...common,
      name: names.total,
      help: help.total,
      type: 'counter',
      get: async () => this.#read(counter, () => this.#counterValues()),
    };
    const histogram = {
      ...common,
      name: names.duration,
      help: help.duration,
      type: 'histogram',
      get: async () => this.#read(histogram, () => this.#histogramValues(names.duration)),
    };
    // prom-client reads any object with a name, a type and get(); its own metrics are such objects.
    type Registered = Parameters<Registry['registerMetric']>[0];
    registry.registerMetric(counter as unknown as Registered);
    registry.registerMetric(histogram as unknown as Registered);
  }

  /** The totals of the label set `key`, if it was seen before. */
  get(key: string): Totals | undefined {
    return this.#totals.get(key);
  }

  /** New totals for the label set `key`, whose label values are `labels`. */
  add(key: string, labels: Labels): Totals {
    const totals = new Totals(labels, this.bounds.length);
    this.#totals.set(key, totals);
    return totals;
  }

  /** Adds one observation of `seconds` to `totals`. */
  observe(totals: Totals, seconds: number): void {
    totals.count++;
    totals.sum += seconds;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    totals.buckets[i]!++;
  }

  #read(
    metric: { name: string; help: string; type: string; aggregator: string },
    values: () => MetricValue[],
  ) {
    return {
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: metric.aggregator,
      values: values(),
    };
  }

  #counterValues(): MetricValue[] {
    return [...this.#totals.values()].map((t) => ({ labels: { ...t.labels }, value: t.count }));
  }

  /** prom-client's order: per label set its buckets (cumulative, `le` first), `+Inf`, sum, count. */
  #histogramValues(name: string): MetricValue[] {
    const values: MetricValue[] = [];
    for (const t of this.#totals.values()) {
      let seen = 0;
      this.bounds.forEach((le, i) => {
        seen += t.buckets[i]!;
        values.push({ labels: { le, ...t.labels }, value: seen, metricName: `${name}_bucket` });
      });
      values.push({
        labels: { le: '+Inf', ...t.labels },
        value: t.count,
        metricName: `${name}_bucket`,
      });
      values.push({ labels: { ...t.labels }, value: t.sum, metricName: `${name}_sum` });
      values.push({ labels: { ...t.labels }, value: t.count, metricName: `${name}_count` });
    }
    return values;
  }
}

/** The store behind a metric this module registered, or `undefined` for anyone else's metric. */
export function storeOf(metric: unknown): SeriesStore | undefined {
  const store = (metric as { store?: unknown } | undefined)?.store;
  return store instanceof SeriesStore ? store : undefined;
}
