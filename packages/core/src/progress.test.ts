import { createProgressReporter, PROGRESS_INTERVAL_MS, withProgress } from './progress.js';
import type { Progress } from './types.js';

/** A reporter on a clock the test moves by hand. */
function scripted(totalBytes?: number) {
  let time = 1_000;
  const seen: Progress[] = [];
  const report = createProgressReporter(
    (p) => seen.push(p),
    totalBytes,
    () => time,
  );
  return { seen, report, advance: (ms: number) => (time += ms) };
}

describe('createProgressReporter', () => {
  it('reports the first chunk at once', () => {
    const { seen, report } = scripted(100);
    report(10, false);
    expect(seen).toEqual([{ transferredBytes: 10, totalBytes: 100, percent: 10 }]);
  });

  it.each([
    [PROGRESS_INTERVAL_MS - 1, 1],
    [PROGRESS_INTERVAL_MS, 2],
  ])('a chunk %s ms after the last report makes %s report(s)', (gap, count) => {
    const { seen, report, advance } = scripted();
    report(10, false);
    advance(gap);
    report(20, false);
    expect(seen).toHaveLength(count);
  });

  it('reports at most every 50 ms however many chunks arrive', () => {
    const { seen, report, advance } = scripted();
    for (let i = 1; i <= 100; i++) {
      advance(5);
      report(i, false);
    }
    // 500 ms of chunks every 5 ms: the first, then one per 50 ms.
    expect(seen.map((p) => p.transferredBytes)).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91]);
  });

  it('always reports the end, even right after another report', () => {
    const { seen, report } = scripted(30);
    report(10, false);
    report(30, true);
    expect(seen[seen.length - 1]).toEqual({ transferredBytes: 30, totalBytes: 30, percent: 100 });
    expect(seen).toHaveLength(2);
  });

  it('does not report the end twice when the last chunk already reported the full count', () => {
    const { seen, report } = scripted(30);
    report(30, false);
    report(30, true);
    expect(seen).toEqual([{ transferredBytes: 30, totalBytes: 30, percent: 100 }]);
  });

  it.each([
    ['an unknown total', undefined, 5, { transferredBytes: 5 }],
    ['an empty body', 0, 0, { transferredBytes: 0, totalBytes: 0, percent: 100 }],
    ['more than announced', 10, 15, { transferredBytes: 15, totalBytes: 10, percent: 100 }],
  ])('reports %s', (_name, total, bytes, expected) => {
    const { seen, report } = scripted(total);
    report(bytes, true);
    expect(seen).toEqual([expected]);
  });
});

describe('withProgress', () => {
  it('passes every chunk through and ends with the full count', async () => {
    const seen: Progress[] = [];
    const out: Uint8Array[] = [];
    const chunks = [new Uint8Array(3), new Uint8Array(4)];
    for await (const chunk of withProgress(chunks, 7, (p) => seen.push(p))) out.push(chunk);
    expect(out).toEqual(chunks);
    expect(seen[0]).toEqual({ transferredBytes: 3, totalBytes: 7, percent: (3 / 7) * 100 });
    expect(seen[seen.length - 1]).toEqual({ transferredBytes: 7, totalBytes: 7, percent: 100 });
  });
});
