// The waits a limiter asks setTimeout for: unlike elapsed time they do not grow on a slow, loaded
// machine (a late timer or a late answer makes later waits shorter), so tests bound them instead.

/**
 * Passes every `setTimeout` through to the real one and calls `record(ms)` for the timers `pick`
 * selects (by their callback, or by the stack that asks). Call `restore()` when done.
 * @example
 * const spy = spyOnTimers((fn) => fn.name === 'pump', (ms) => waits.push(ms));
 */
export function spyOnTimers(
  pick: (fn: (...args: unknown[]) => void) => boolean,
  record: (ms: number) => void,
): { restore(): void } {
  const realSetTimeout = globalThis.setTimeout;
  const spy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((
    fn: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    if (pick(fn)) record(ms ?? 0);
    return realSetTimeout(fn, ms, ...args);
  }) as typeof setTimeout);
  return { restore: () => spy.mockRestore() };
}
