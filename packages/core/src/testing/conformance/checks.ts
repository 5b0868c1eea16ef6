// The checks the conformance cases use: node:assert (throws an AssertionError, understood by every
// runner) plus the few comparisons node:assert lacks, and the echo route's answer decoded.
import assert from 'node:assert/strict';

/** Fails unless `actual > than`. */
export function greater(actual: number, than: number): void {
  assert.ok(actual > than, `expected ${actual} to be greater than ${than}`);
}

/** Fails unless `actual >= min`. */
export function atLeast(actual: number, min: number): void {
  assert.ok(actual >= min, `expected ${actual} to be at least ${min}`);
}

/** Fails unless `actual <= max`. */
export function atMost(actual: number, max: number): void {
  assert.ok(actual <= max, `expected ${actual} to be at most ${max}`);
}

/** Fails unless the text contains `part`. */
export function includes(text: string, part: string): void {
  assert.ok(
    text.includes(part),
    `expected ${JSON.stringify(text)} to contain ${JSON.stringify(part)}`,
  );
}

/** What the `/echo` route answers: the request as the server saw it. */
export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  length: number;
  httpVersion: string;
}

/** The `/echo` answer with its body decoded from base64. */
export async function echoOf(res: { json<T>(): Promise<T> }): Promise<Echo & { bytes: Buffer }> {
  const echo = await res.json<Echo>();
  return { ...echo, bytes: Buffer.from(echo.body, 'base64') };
}

/** The reason a promise rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: 'expected the promise to reject, but it resolved' });
}
