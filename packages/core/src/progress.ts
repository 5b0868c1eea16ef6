// Upload and download progress: one throttle shared by core's body readers and both transports,
// so onUploadProgress and onDownloadProgress fire alike everywhere (at most every 50 ms, once at the end).
import type { Progress } from './types.js';

/** The shortest time between two progress reports, except the final one. */
export const PROGRESS_INTERVAL_MS = 50;

/**
 * Reports `bytes` so far; `done` marks the end of the body. Built by {@link createProgressReporter}.
 * @example
 * report(chunkBytes, false); // while sending or reading
 * report(totalBytes, true); // once, at the end
 */
export type ProgressReport = (bytes: number, done: boolean) => void;

/**
 * A throttled progress reporter: it calls `onProgress` for the first chunk, then at most every
 * {@link PROGRESS_INTERVAL_MS}, and once at the end unless that very count was just reported.
 * `totalBytes` (when known) adds `totalBytes` and `percent` to each report. `now` is injectable for tests.
 * State (the time of the last report) belongs to one body: build one reporter per body.
 * @example
 * const report = createProgressReporter((p) => console.log(p.percent), 1000);
 * report(500, false); // { transferredBytes: 500, totalBytes: 1000, percent: 50 }
 * report(1000, true); // { transferredBytes: 1000, totalBytes: 1000, percent: 100 }
 */
export function createProgressReporter(
  onProgress: (progress: Progress) => void,
  totalBytes?: number,
  now: () => number = Date.now,
): ProgressReport {
  let last = Number.NEGATIVE_INFINITY;
  let reported = -1;
  return (bytes, done) => {
    const time = now();
    if (done ? bytes === reported : time - last < PROGRESS_INTERVAL_MS) return;
    last = time;
    reported = bytes;
    const progress: Progress = { transferredBytes: bytes };
    if (totalBytes !== undefined) {
      progress.totalBytes = totalBytes;
      progress.percent = totalBytes === 0 ? 100 : Math.min(100, (bytes / totalBytes) * 100);
    }
    onProgress(progress);
  };
}

/**
 * Passes `source` through unchanged, reporting the bytes that went by (upload progress for a
 * transport: it sees each chunk as the transport pulls it to send).
 * @example
 * request.body = withProgress([bytes], bytes.byteLength, ctx.onUploadProgress);
 */
export async function* withProgress(
  source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  totalBytes: number | undefined,
  onProgress: (progress: Progress) => void,
): AsyncGenerator<Uint8Array> {
  const report = createProgressReporter(onProgress, totalBytes);
  let sent = 0;
  for await (const chunk of source) {
    sent += chunk.byteLength;
    report(sent, false);
    yield chunk;
  }
  report(sent, true);
}
