// The recent latencies of one hedge() instance and a percentile of them: the delay of 'p95'.
// A ring of the last `size` samples; the percentile is recomputed every tenth of the ring, not per call.

/** A bounded window of recent latencies; see {@link createLatencyWindow}. */
export interface LatencyWindow {
  /** Adds a sample (ms), replacing the oldest when the window is full. */
  record(ms: number): void;
  /** The percentile of the samples (nearest rank), or the fallback until there are enough. */
  percentile(): number;
  /** How many samples the window holds. */
  readonly count: number;
}

/** Options of {@link createLatencyWindow}; all are required (hedge() validates and fills them). */
export interface LatencyWindowOptions {
  /** How many recent samples to keep. */
  size: number;
  /** How many samples before the percentile counts (at most `size`). */
  minSamples: number;
  /** The percentile, in (0, 100). */
  percentile: number;
  /** What {@link LatencyWindow.percentile} gives until `minSamples` samples have come. */
  fallback: number;
}

/**
 * A bounded window of recent latencies (ms) and their nearest-rank percentile. It keeps the last
 * `size` samples; the percentile is a cached number, recomputed (one sort of the window) when the
 * window first holds `minSamples` samples and then every `ceil(size / 10)` new samples, so a call
 * pays a read, not a sort.
 * @example
 * const window = createLatencyWindow({ size: 100, minSamples: 20, percentile: 95, fallback: 1_000 });
 * window.record(42);
 * window.percentile(); // 1000 until 20 samples, then the 95th percentile of the last 100
 */
export function createLatencyWindow(options: LatencyWindowOptions): LatencyWindow {
  const { size, percentile, fallback } = options;
  const samples = new Float64Array(size);
  const scratch = new Float64Array(size);
  const minSamples = Math.min(options.minSamples, size);
  const every = Math.ceil(size / 10);
  let count = 0;
  let next = 0;
  let fresh = 0;
  let cached = fallback;
  let ready = false;

  function recompute(): void {
    const sorted = scratch.subarray(0, count);
    sorted.set(samples.subarray(0, count));
    sorted.sort();
    cached = sorted[Math.max(0, Math.ceil((percentile / 100) * count) - 1)]!;
    fresh = 0;
    ready = true;
  }

  return {
    record(ms) {
      samples[next] = ms;
      next = next + 1 === size ? 0 : next + 1;
      if (count < size) count++;
      fresh++;
      if (count >= minSamples && (fresh >= every || !ready)) recompute();
    },
    percentile: () => cached,
    get count() {
      return count;
    },
  };
}
