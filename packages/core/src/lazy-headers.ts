// The base of core's Headers that keep their entries elsewhere until something needs them all
// (response headers over undici's raw head, a pass's writes over its client's headers), and the
// two checks they make without Headers' help.

// RFC 9110 §5.6.2 token, ASCII only: what the Headers methods accept as a name (anything else
// makes them throw), and what a method must be.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Fetch's "HTTP whitespace", which Headers strips from both ends of a value.
const EDGE_SPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

function isSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Whether `value` is an RFC 9110 token: a header name Headers accepts as it is, or a method. */
export function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

// Header names checked before, by name: a program reads and writes a handful of names, each then
// checked and lower-cased once. Bounded, so that names made up per call cannot grow it.
const KEYS = new Map<string, string>();
const MAX_KEYS = 512;

/**
 * The lower-case form of a header name Headers accepts as it is (an RFC 9110 token), else
 * `undefined`: the key core's lazy headers look names up by.
 */
export function headerKey(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  let key = KEYS.get(name);
  if (key === undefined) {
    if (!TOKEN.test(name)) return undefined;
    key = name.toLowerCase();
    if (KEYS.size < MAX_KEYS) KEYS.set(name, key);
  }
  return key;
}

/** A header value as Headers stores it: HTTP whitespace trimmed from both ends. */
export function normalise(value: string): string {
  return isSpace(value.charCodeAt(0)) || isSpace(value.charCodeAt(value.length - 1))
    ? value.replace(EDGE_SPACE, '')
    : value;
}

/**
 * Whether this runtime copies a `Headers` given to `new Headers()` (and to `fetch`) through its
 * iterator, as WebIDL says, so that a subclass holding entries outside its own storage is copied
 * whole. Bun reads the storage directly: there core's lazy headers are not used (a copy would miss
 * what they hold outside it).
 */
export const copiesThroughIterator: boolean = (() => {
  class Probe extends Headers {
    override [Symbol.iterator](): ReturnType<Headers['entries']> {
      return new Headers([['x-probe', '1']]).entries();
    }
  }
  try {
    return new Headers(new Probe()).has('x-probe');
  } catch {
    return false;
  }
})();

/** The method that copies a {@link LazyHeaders}' entries into the Headers itself. */
export const kFill: unique symbol = Symbol('extapi.fillHeaders');

/**
 * A real `Headers` whose entries are held elsewhere until something needs more than its subclass
 * answers on its own: `append`, iteration, `forEach`, `getSetCookie` and `util.inspect` fill it
 * first (through `[kFill]()`, which does nothing once done), so it then behaves as the Headers it
 * stands for. Subclasses answer `get`, `has` and whatever writes they can keep.
 */
export abstract class LazyHeaders extends Headers {
  /** Copies the entries held elsewhere into the Headers itself, once. */
  protected abstract [kFill](): void;

  override append(name: string, value: string): void {
    this[kFill]();
    super.append(name, value);
  }

  override getSetCookie(): string[] {
    this[kFill]();
    return super.getSetCookie();
  }

  override forEach(
    callback: (value: string, key: string, parent: Headers) => void,
    thisArg?: unknown,
  ): void {
    this[kFill]();
    super.forEach(callback, thisArg);
  }

  override entries(): ReturnType<Headers['entries']> {
    this[kFill]();
    return super.entries();
  }

  override keys(): ReturnType<Headers['keys']> {
    this[kFill]();
    return super.keys();
  }

  override values(): ReturnType<Headers['values']> {
    this[kFill]();
    return super.values();
  }

  override [Symbol.iterator](): ReturnType<Headers['entries']> {
    this[kFill]();
    return super[Symbol.iterator]();
  }

  /** Node's `util.inspect` reads the entries directly: fill them first. */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    this[kFill]();
    return inspect(new Headers(this), options);
  }
}
