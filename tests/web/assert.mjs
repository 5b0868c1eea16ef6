// The few assertions the checks need, without node:assert (a page and a worker have no Node builtin).

/** Throws unless `actual === expected`. */
export function equal(actual, expected, message) {
  if (actual !== expected) {
    throw new Error(
      message ?? `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }
}

/** Throws unless both values have the same JSON (plain data only: what the checks compare). */
export function deepEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(message ?? `expected ${e}, got ${a}`);
}

/** Throws unless `value` is truthy. */
export function ok(value, message) {
  if (!value) throw new Error(message ?? `expected a truthy value, got ${JSON.stringify(value)}`);
}

/** The error `promise` rejects with; throws when it resolves. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject, but it resolved');
}
