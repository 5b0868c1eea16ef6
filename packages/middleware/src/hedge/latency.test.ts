import { createLatencyWindow } from './latency.js';

const window = (size: number, minSamples: number, percentile: number) =>
  createLatencyWindow({ size, minSamples, percentile, fallback: -1 });

describe('createLatencyWindow', () => {
  it('gives the fallback until it has minSamples samples', () => {
    const w = window(10, 3, 50);
    w.record(5);
    w.record(6);
    expect(w.percentile()).toBe(-1);
    w.record(7);
    expect(w.percentile()).toBe(6);
  });

  it.each([
    [50, 50],
    [90, 90],
    [95, 100],
    [99, 100],
    [1, 10],
  ])('gives the p%d of 10…100 by nearest rank: %d', (p, expected) => {
    const w = window(10, 10, p);
    for (const ms of [100, 30, 50, 10, 90, 20, 70, 60, 40, 80]) w.record(ms);
    expect(w.percentile()).toBe(expected);
  });

  it('recomputes once per tenth of the window, not per sample', () => {
    const w = window(20, 20, 1);
    for (let i = 0; i < 20; i++) w.record(100);
    expect(w.percentile()).toBe(100);
    // Refreshed every 2 samples (a tenth of 20): the first 5 shows only with the second.
    w.record(5);
    expect(w.percentile()).toBe(100);
    w.record(5);
    expect(w.percentile()).toBe(5);
  });

  it('forgets the oldest samples and follows the recent ones', () => {
    const w = window(20, 20, 99);
    for (let i = 0; i < 20; i++) w.record(100);
    for (let i = 0; i < 20; i++) w.record(5);
    expect(w.percentile()).toBe(5);
    expect(w.count).toBe(20);
  });
});
