// Exponential backoff with full jitter: the delay retry() waits when the server names none.
// A pure function of the attempt, the options and a random source, so it is tested by table.

/** Exponential backoff bounds for {@link backoffDelay}. */
export interface BackoffOptions {
  /** The cap of the first wait, doubled on each retry. @default 200 */
  baseMs?: number;
  /** The largest wait, whatever the attempt. @default 20000 */
  maxMs?: number;
}

/**
 * How long to wait after failed attempt `attempt` (1-based): a uniformly random delay between 0 and
 * `min(maxMs, baseMs × 2^(attempt−1))` ("full jitter", which spreads clients that failed together
 * best; see the AWS Architecture Blog, "Exponential Backoff and Jitter").
 * @example
 * backoffDelay(3, { baseMs: 200, maxMs: 20_000 }, Math.random); // somewhere in [0, 800)
 */
export function backoffDelay(
  attempt: number,
  options: Required<BackoffOptions>,
  random: () => number = Math.random,
): number {
  // 2 ** 1100 is Infinity; Math.min keeps the ceiling finite for any attempt count.
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
