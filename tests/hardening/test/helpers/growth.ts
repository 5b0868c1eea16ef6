// Linearity measured by growth, not by wall-clock time: how much slower a parser gets when its
// input grows eightfold (about 8 when linear, 64 when quadratic) holds on a slow or loaded machine.

/** Input growth between the two sizes timed. */
export const GROWTH_FACTOR = 8;
/** A ratio above this is not linear: well under the quadratic 64, well over the linear 8. */
export const LINEAR_GROWTH_LIMIT = 24;
/** Each timing repeats the work until it takes this long, so timer resolution and noise vanish. */
const MIN_SAMPLE_MS = 1;
/** Timings of each size; the fastest counts, since load only ever makes a run slower. */
const RUNS = 5;
/**
 * Measurements of a ratio at most: one over the limit is taken again. A stall in the process (a
 * major GC, a compile on a helper thread, both counted in its CPU time) can land on every large
 * sample of one measurement; a parser that is really superlinear stays over the limit every time.
 */
const ATTEMPTS = 3;

/** Keeps results alive so that the JIT cannot drop the work being timed. */
let sink: unknown;

/**
 * The CPU time (ms) this process spends on `reps` runs of `work`. CPU time rather than wall-clock
 * time: on a busy machine the scheduler preempts a long sample more often than a short one, which
 * would inflate the ratio of wall-clock times by up to the inverse of this process's share of a core.
 */
async function time(work: () => unknown, reps: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < reps; i++) {
    sink = work();
    if (sink instanceof Promise) sink = await sink;
  }
  const spent = process.cpuUsage(start);
  return (spent.user + spent.system) / 1000;
}

/**
 * How many times longer `prepare(size * 8)`'s work takes than `prepare(size)`'s: the fastest of
 * several interleaved timings of each, each repeated until the small one takes a millisecond; a
 * ratio over {@link LINEAR_GROWTH_LIMIT} is measured again (up to {@link ATTEMPTS} times) and the
 * lowest counts. `prepare` builds the input outside the timing and returns the work to time.
 * @example
 * expect(await growth((n) => () => parse('x'.repeat(n)), 16 * 1024)).toBeLessThan(LINEAR_GROWTH_LIMIT);
 */
export async function growth(
  prepare: (size: number) => () => unknown,
  size: number,
): Promise<number> {
  const small = prepare(size);
  const large = prepare(size * GROWTH_FACTOR);
  let lowest = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < ATTEMPTS && !(lowest < LINEAR_GROWTH_LIMIT); attempt++) {
    lowest = Math.min(lowest, await measure(small, large));
  }
  return lowest;
}

/** One measurement of `large`'s time over `small`'s (see {@link growth}). */
async function measure(small: () => unknown, large: () => unknown): Promise<number> {
  // Warm both up (the JIT, lazily built caches), then find how many repetitions make a sample.
  await time(small, 1);
  await time(large, 1);
  let reps = 1;
  while ((await time(small, reps)) < MIN_SAMPLE_MS) reps *= 2;
  let bestSmall = Number.POSITIVE_INFINITY;
  let bestLarge = Number.POSITIVE_INFINITY;
  for (let run = 0; run < RUNS; run++) {
    bestSmall = Math.min(bestSmall, await time(small, reps));
    bestLarge = Math.min(bestLarge, await time(large, reps));
  }
  void sink;
  return bestLarge / bestSmall;
}
