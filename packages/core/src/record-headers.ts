// Response headers from a record of lowercase names (undici's `headers`), as a real WHATWG Headers
// that answers get() and has() from the record and copies it into itself only when asked for more.

import { copiesThroughIterator, headerKey, kFill, LazyHeaders, normalise } from './lazy-headers.js';

/** Header values by lowercase name, as undici gives them: repeated headers as arrays. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

/**
 * Headers a transport can look up one by one without parsing them all (undici's raw head): `get`
 * takes a lowercase name, `all` gives the whole record the first time more is asked of them.
 * @example
 * const source: HeaderSource = { get: (name) => record[name], all: () => record };
 */
export interface HeaderSource {
  /** The value of the header `lowerName` (repeated headers as an array), or `undefined`. */
  get(lowerName: string): string | string[] | undefined;
  /** Every header, as a record of lowercase names. */
  all(): HeaderRecord;
}

/**
 * A `Headers` whose entries stay in `record` until something needs more than `get` or `has`: most
 * calls read a header or two (or none), and filling a Headers costs a validated append per header.
 * Everything else (iteration, `forEach`, `getSetCookie`, changes, `util.inspect`) fills it first, so
 * it behaves as the Headers a transport would have built.
 */
class RecordHeaders extends LazyHeaders {
  #record: HeaderRecord | HeaderSource | undefined;

  constructor(record: HeaderRecord | HeaderSource) {
    super();
    this.#record = record;
  }

  protected override [kFill](): void {
    const source = this.#record;
    if (source === undefined) return;
    this.#record = undefined;
    const record = isSource(source) ? source.all() : source;
    for (const name in record) {
      if (!Object.hasOwn(record, name)) continue;
      const value = record[name];
      if (typeof value === 'string') super.append(name, value);
      else if (value !== undefined) for (const item of value) super.append(name, item);
    }
  }

  /** The record's value for a valid name; `undefined` when the answer must come from Headers itself. */
  #lookup(name: string): string | string[] | null | undefined {
    const record = this.#record;
    if (record === undefined) return undefined;
    const lower = headerKey(name);
    if (lower === undefined) return undefined;
    if (isSource(record)) return record.get(lower) ?? null;
    return Object.hasOwn(record, lower) ? (record[lower] ?? null) : null;
  }

  override get(name: string): string | null {
    const value = this.#lookup(name);
    if (value === undefined) return super.get(name);
    return joined(value);
  }

  override has(name: string): boolean {
    const value = this.#lookup(name);
    return value === undefined ? super.has(name) : value !== null;
  }

  override set(name: string, value: string): void {
    this[kFill]();
    super.set(name, value);
  }

  override delete(name: string): void {
    this[kFill]();
    super.delete(name);
  }
}

/** A header's value as `Headers.get` gives it: edges trimmed, repeated values joined. */
function joined(value: string | readonly string[] | null): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? normalise(value) : value.map(normalise).join(', ');
}

/**
 * `Headers.get` over a {@link HeaderSource}, without building a `Headers`: what
 * `recordHeaders(source).get(name)` answers, for one name (an invalid one throws the same TypeError).
 */
export function sourceHeader(source: HeaderSource, name: string): string | null {
  const key = headerKey(name);
  if (key === undefined) return new Headers().get(name);
  return joined(source.get(key) ?? null);
}

/** A HeaderSource, not a record: a record's `get` would be a header's value, never a function. */
function isSource(record: HeaderRecord | HeaderSource): record is HeaderSource {
  return typeof record.get === 'function' && typeof record.all === 'function';
}

/**
 * Response headers over `record` (lowercase names, repeated headers as arrays, as undici gives them)
 * or over a {@link HeaderSource}: a real `Headers` (`instanceof Headers`), whose `get` and `has` read
 * the record (or ask the source) and which copies it into itself the first time anything else is
 * asked of it.
 * @example
 * const headers = recordHeaders({ 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
 * headers.get('Content-Type'); // 'application/json', without building the Headers
 */
export function recordHeaders(record: HeaderRecord | HeaderSource): Headers {
  const headers = new RecordHeaders(record);
  // Bun copies a Headers from its own storage, which would miss the record: a filled plain one.
  return copiesThroughIterator ? headers : new Headers([...headers]);
}
