// The options of hedge(): the public type, its defaults, and the one function that validates them.
// Everything here runs once, when hedge() is called, never per request.
import {
  ConfigError,
  type Context,
  type OptionCheck,
  type OptionSpec,
  option,
  readOptions,
} from '@extapi/core';
import { budgetOption, type RetryBudget, type RetryBudgetOptions } from '../retry/budget.js';
import { DEFAULT_RETRY_OPTIONS } from '../retry/options.js';

/** A percentile of recent latencies: `'p50'`, `'p95'`, `'p99.9'`… (above 0, below 100). */
export type LatencyPercentile = `p${number}`;

/** What `onHedge` is told when a hedge is sent. */
export interface HedgeInfo {
  /** Which hedge this is: 1 for the first extra attempt, up to `maxHedges`. */
  hedge: number;
  /** How long the call had waited for an answer, in ms, when the hedge was sent. */
  delayMs: number;
  /** The hedge's own context (a clone of the call's; `hedgeNumber(ctx)` gives `hedge`). */
  ctx: Context;
}

/** Options of `hedge()`. Every field is optional; `undefined` means the default. */
export interface HedgeOptions {
  /**
   * How long to wait for an answer before sending a hedge, and between hedges: a number of ms, or
   * a percentile of this instance's recent latencies (`'p95'`), with `fallbackDelayMs` until
   * `minSamples` latencies have been seen.
   * @default 'p95'
   */
  delayMs?: number | LatencyPercentile;
  /** Extra attempts at most, besides the first. An integer from 1 to 10. @default 1 */
  maxHedges?: number;
  /** The delay while a percentile `delayMs` has too few samples. @default 1000 */
  fallbackDelayMs?: number;
  /** How many recent latencies a percentile `delayMs` is taken from. @default 100 */
  window?: number;
  /** How many latencies a percentile `delayMs` needs before it counts. @default 20 */
  minSamples?: number;
  /**
   * Statuses that do not win the race: while another attempt is in flight, the call waits for it
   * (as it does after an error). An answer with one of these ends the call only when no other
   * attempt is left. @default retry()'s statusCodes: [408, 429, 500, 502, 503, 504]
   */
  statusCodes?: readonly number[];
  /**
   * Keeps hedges to a share of calls: a token bucket (retry()'s) that each hedgeable call fills by
   * `ratio` and each hedge empties by one. `true` for a bucket of this instance, options for
   * another, a `RetryBudget` to share one, `false` for none (not advised: a slow partner then
   * gets every call twice).
   * @default { ratio: 0.1, perSecond: 1 }
   */
  budget?: boolean | RetryBudgetOptions | RetryBudget;
  /** Called when a hedge is sent. */
  onHedge?: (info: HedgeInfo) => void;
  /** The monotonic clock of the latencies, in ms. @default performance.now */
  now?: () => number;
}

/** The defaults of {@link HedgeOptions}. */
export const DEFAULT_HEDGE_OPTIONS = {
  /** @see HedgeOptions.delayMs */
  delayMs: 'p95' as LatencyPercentile,
  /** @see HedgeOptions.maxHedges */
  maxHedges: 1,
  /** @see HedgeOptions.fallbackDelayMs */
  fallbackDelayMs: 1_000,
  /** @see HedgeOptions.window */
  window: 100,
  /** @see HedgeOptions.minSamples */
  minSamples: 20,
  /** @see HedgeOptions.statusCodes */
  statusCodes: DEFAULT_RETRY_OPTIONS.statusCodes,
  /** @see HedgeOptions.budget */
  budget: { ratio: 0.1, perSecond: 1 } as Readonly<RetryBudgetOptions>,
} as const;

/** {@link HedgeOptions} validated and filled in. */
export interface ResolvedHedgeOptions {
  /** A fixed delay in ms, or `undefined` when the delay is a percentile. */
  delayMs: number | undefined;
  /** The percentile (in (0, 100)) when `delayMs` is one. */
  percentile: number | undefined;
  /** Extra attempts at most. */
  maxHedges: number;
  /** The delay while the percentile has too few samples. */
  fallbackDelayMs: number;
  /** How many recent latencies the percentile is taken from. */
  window: number;
  /** How many latencies the percentile needs. */
  minSamples: number;
  /** Statuses that do not win the race. */
  statusCodes: ReadonlySet<number>;
  /** The hedge budget, or `undefined` for none. */
  budget: RetryBudget | undefined;
  /** Called when a hedge is sent, if given. */
  onHedge: ((info: HedgeInfo) => void) | undefined;
  /** The monotonic clock, in ms. */
  now: () => number;
}

const d = DEFAULT_HEDGE_OPTIONS;
const PERCENTILE = /^p(\d{1,2}(?:\.\d+)?)$/;
const msCheck = option.ms();

const delayCheck: OptionCheck<number | LatencyPercentile> = (value, name) => {
  if (value === undefined) return d.delayMs;
  if (typeof value === 'string') {
    const p = Number(PERCENTILE.exec(value)?.[1]);
    if (p > 0 && p < 100) return value as LatencyPercentile;
    throw new ConfigError(name, value, "expected a number of ms or a percentile such as 'p95'");
  }
  return msCheck(value, name)!;
};

const HEDGE_SPEC = {
  delayMs: delayCheck,
  maxHedges: option.integer({ min: 1, max: 10, default: d.maxHedges }),
  fallbackDelayMs: option.ms({ default: d.fallbackDelayMs }),
  window: option.integer({ min: 1, max: 10_000, default: d.window }),
  minSamples: option.integer({ min: 1, default: d.minSamples }),
  statusCodes: option.array(option.integer<never>({ min: 100, max: 599 }), d.statusCodes),
  budget: budgetOption(d.budget),
  onHedge: option.fn<(info: HedgeInfo) => void>(),
  now: option.fn<() => number, () => number>(() => performance.now()),
} satisfies OptionSpec<HedgeOptions>;

/**
 * Validates {@link HedgeOptions} once and fills in the defaults; throws `ConfigError` naming the
 * option and the value (an unknown one with the nearest known name). Reads own properties only.
 * @example
 * resolveHedgeOptions({ delayMs: 'p99' }).percentile; // 99
 */
export function resolveHedgeOptions(options: HedgeOptions = {}): ResolvedHedgeOptions {
  const read = readOptions('hedge()', options, HEDGE_SPEC);
  const fixed = typeof read.delayMs === 'number';
  if (read.minSamples > read.window) {
    throw new ConfigError('minSamples', read.minSamples, `expected <= window (${read.window})`);
  }
  return {
    ...read,
    delayMs: fixed ? (read.delayMs as number) : undefined,
    percentile: fixed ? undefined : Number((read.delayMs as string).slice(1)),
    statusCodes: new Set(read.statusCodes),
  };
}
