// Internals shared by several middleware (no index.ts: not an entry point of its own).
// Strings joined from two low-cardinality parts (a method and a status, a template and a method),
// kept so that a call reuses one instead of joining its pieces anew, a new string every time.

/**
 * `join(a, b)`, kept by `a`, then `b`: at most `max` values of `a`, and `max` of `b` for each, are
 * kept; past them a string is joined and not kept, so a high-cardinality part costs no memory.
 * @example
 * const spanName = joinedNames(1000, (template: string, method: string) => `${method} ${template}`);
 * spanName('/items/:id', 'GET'); // 'GET /items/:id', the same string on every call
 */
export function joinedNames<A, B>(
  max: number,
  join: (a: A, b: B) => string,
): (a: A, b: B) => string {
  const byFirst = new Map<A, Map<B, string>>();
  return (a, b) => {
    let bySecond = byFirst.get(a);
    if (bySecond === undefined) {
      bySecond = new Map();
      if (byFirst.size < max) byFirst.set(a, bySecond);
    }
    let joined = bySecond.get(b);
    if (joined === undefined) {
      joined = join(a, b);
      if (bySecond.size < max) bySecond.set(b, joined);
    }
    return joined;
  };
}
