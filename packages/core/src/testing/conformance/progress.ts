// Conformance cases, progress: download and upload reports, throttled, of the final response only.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import type { Progress } from '../../types.js';
import { atLeast, greater } from './checks.js';
import { TRICKLE_INTERVAL_MS } from './server.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "progress" cases of the conformance suite. */
export function progressCases(s: SuiteContext, test: AddCase): void {
  for (const readBody of [true, false]) {
    test(`reports download progress of the final response only, never of a redirect (readBody: ${readBody})`, async () => {
      const seen: Progress[] = [];
      const res = await s.client.get('/redirect?status=302&to=/sized?size=1000', {
        readBody,
        onDownloadProgress: (p) => seen.push(p),
      });
      assert.equal((await res.bytes()).byteLength, 1000);
      greater(seen.length, 0);
      for (const report of seen) assert.equal(report.totalBytes, 1000);
      assert.deepEqual(seen[seen.length - 1], {
        transferredBytes: 1000,
        totalBytes: 1000,
        percent: 100,
      });
    });
  }

  /** Records each report with the time it came, on the clock the throttle uses. */
  function recorder() {
    const seen: { progress: Progress; at: number }[] = [];
    return {
      seen,
      onProgress: (progress: Progress) => seen.push({ progress, at: Date.now() }),
    };
  }

  /** At most one report per 50 ms but the last, counts that only grow, one report of the end. */
  function expectThrottled(seen: { progress: Progress; at: number }[], total: number): void {
    atLeast(seen.length, 2);
    // The reporter decides on its own clock reading; the recorder stamps a little later, and a
    // pause (GC, a loaded machine) between the two can shorten the gap it sees by a few ms.
    for (let i = 1; i < seen.length - 1; i++) {
      atLeast(seen[i]!.at - seen[i - 1]!.at, 45);
    }
    for (let i = 1; i < seen.length; i++) {
      greater(seen[i]!.progress.transferredBytes, seen[i - 1]!.progress.transferredBytes);
    }
    assert.equal(seen.filter((r) => r.progress.transferredBytes === total).length, 1);
  }

  for (const readBody of [true, false]) {
    test(`reports download progress at most every 50 ms and once at the end (readBody: ${readBody})`, async () => {
      const { seen, onProgress } = recorder();
      const res = await s.client.get('/trickle?chunks=12&size=10240', {
        readBody,
        onDownloadProgress: onProgress,
      });
      assert.equal((await res.bytes()).byteLength, 12 * 10240);
      expectThrottled(seen, 12 * 10240);
      assert.equal(seen[0]!.progress.totalBytes, 12 * 10240);
      assert.deepEqual(seen[seen.length - 1]!.progress, {
        transferredBytes: 12 * 10240,
        totalBytes: 12 * 10240,
        percent: 100,
      });
    });
  }

  test('reports download progress without totalBytes and percent when the length is unknown', async () => {
    const { seen, onProgress } = recorder();
    const res = await s.client.get('/trickle?chunks=4&size=1000&known=0', {
      onDownloadProgress: onProgress,
    });
    assert.equal((await res.bytes()).byteLength, 4000);
    assert.deepEqual(seen[seen.length - 1]!.progress, { transferredBytes: 4000 });
  });

  test('reports upload progress of a streamed body at most every 50 ms and once at the end', async () => {
    const { seen, onProgress } = recorder();
    async function* slowly() {
      for (let i = 0; i < 12; i++) {
        await new Promise((resolve) => setTimeout(resolve, TRICKLE_INTERVAL_MS));
        yield new Uint8Array(10240).fill(i);
      }
    }
    const res = await s.client.post('/bytes', { body: slowly(), onUploadProgress: onProgress });
    assert.equal((await res.bytes()).byteLength, 12 * 10240);
    expectThrottled(seen, 12 * 10240);
    assert.deepEqual(seen[seen.length - 1]!.progress, { transferredBytes: 12 * 10240 });
  });

  test('reports upload progress of a body of known length with totalBytes and percent', async () => {
    const { seen, onProgress } = recorder();
    const body = s.fixtures.big.subarray(0, 300_000);
    const res = await s.client.post('/bytes', { body, onUploadProgress: onProgress });
    assert.equal(Buffer.from(await res.bytes()).equals(body), true);
    assert.equal(seen.filter((r) => r.progress.transferredBytes === 300_000).length, 1);
    assert.deepEqual(seen[seen.length - 1]!.progress, {
      transferredBytes: 300_000,
      totalBytes: 300_000,
      percent: 100,
    });
  });
}
