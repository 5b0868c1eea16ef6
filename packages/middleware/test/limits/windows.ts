// Test helpers: how many events fall inside the busiest half-open window [t, t + windowMs), from
// exact times or from times known only to lie in a span.

/** The largest number of `times` inside any half-open window [t, t + windowMs). */
export function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

/**
 * The largest number of events that certainly share a half-open window of `windowMs`, when each is
 * known only to lie in its span [`from`, `to`]: events whose spans all fit in less than `windowMs`.
 */
export function busiestWindowCertain(
  spans: { from: number; to: number }[],
  windowMs: number,
): number {
  let best = 0;
  for (const first of spans) {
    const inside = spans.filter((s) => s.from >= first.from && s.to < first.from + windowMs);
    best = Math.max(best, inside.length);
  }
  return best;
}
