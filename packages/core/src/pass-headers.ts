// Request headers on the hot path: the client's own, read in place and listed for the wire once,
// and a pass's, which keep what it sets or deletes as a short list over the client's until
// something needs a whole Headers. Either is a real `Headers` to whoever holds it.

import { headerKey, kFill, LazyHeaders, normalise } from './lazy-headers.js';

// What Headers refuses in a value (once trimmed): NUL, CR, LF, and anything past Latin-1.
const BAD_VALUE = /[\0\r\n]|[^\0-\u00ff]/;

/**
 * A client's own headers: set once when the client is made, then only read (in place, by every
 * call that writes none of its own), so the list the wire gets is made once. Writing to them
 * throws: a pass writes `ctx.request.headers`, its own copy.
 */
export class ClientHeaders extends Headers {
  #list: string[] | undefined;

  /** `[name, value, …]`, lower-case names, as iteration gives them; made on first use. */
  list(): string[] {
    if (this.#list === undefined) {
      const list: string[] = [];
      for (const [name, value] of super.entries()) list.push(name, value);
      this.#list = list;
    }
    return this.#list;
  }

  /** Answered from the list: a pass's reads (framing checks, its own `get`) cost no Headers call. */
  override get(name: string): string | null {
    const at = this.#find(name);
    return at === undefined ? super.get(name) : at === -1 ? null : this.list()[at + 1]!;
  }

  override has(name: string): boolean {
    const at = this.#find(name);
    return at === undefined ? super.has(name) : at !== -1;
  }

  /** Where a valid name is in the list (-1: absent); `undefined` for what Headers must answer. */
  #find(name: unknown): number | undefined {
    // A repeated Set-Cookie is listed once per value, which get() joins: Headers answers it.
    const key = headerKey(name);
    return key === undefined || key === 'set-cookie' ? undefined : indexOf(this.list(), key);
  }

  override set(_name: string, _value: string): never {
    throw readOnly();
  }

  override append(_name: string, _value: string): never {
    throw readOnly();
  }

  override delete(_name: string): never {
    throw readOnly();
  }
}

function readOnly(): TypeError {
  return new TypeError(
    "A client's own headers are read-only: write ctx.request.headers, the pass's copy",
  );
}

/**
 * The headers a pass writes, over its client's: what it sets or deletes is kept as a list (most
 * passes set a header or two: an `Authorization`, a trace id) and read through to the client's for
 * the rest, so no copy is made and the wire gets a list without building a Headers. Anything else
 * (`append`, iteration, `forEach`, `getSetCookie`, `util.inspect`, a name or value Headers would
 * refuse) fills it first, so it behaves as the copy it stands for.
 */
export class PassHeaders extends LazyHeaders {
  #base: ClientHeaders | undefined;
  /** `[lowerName, value or null (deleted)]` pairs, one per name, in the order first written. */
  #own: Array<string | null> = [];

  constructor(base: ClientHeaders) {
    super();
    this.#base = base;
  }

  protected override [kFill](): void {
    const base = this.#base;
    if (base === undefined) return;
    this.#base = undefined;
    const own = this.#own;
    const list = base.list();
    for (let i = 0; i < list.length; i += 2) {
      if (indexOf(own, list[i]!) === -1) super.append(list[i]!, list[i + 1]!);
    }
    for (let i = 0; i < own.length; i += 2) {
      if (own[i + 1] !== null) super.append(own[i]!, own[i + 1]!);
    }
    this.#own = [];
  }

  /** A name this pass may answer or record without Headers' help: `undefined` once filled. */
  #key(name: unknown): string | undefined {
    if (this.#base === undefined) return undefined;
    const key = headerKey(name);
    if (key === undefined) this[kFill]();
    return key;
  }

  #record(key: string, value: string | null): void {
    const own = this.#own;
    const at = indexOf(own, key);
    if (at !== -1) own[at + 1] = value;
    // A literal first, not push(): an empty array's first push reserves room for 16 more.
    else if (own.length === 0) this.#own = [key, value];
    else own.push(key, value);
  }

  override get(name: string): string | null {
    const key = this.#key(name);
    if (key === undefined) return super.get(name);
    const at = indexOf(this.#own, key);
    return at === -1 ? this.#base!.get(key) : this.#own[at + 1]!;
  }

  override has(name: string): boolean {
    const key = this.#key(name);
    if (key === undefined) return super.has(name);
    const at = indexOf(this.#own, key);
    return at === -1 ? this.#base!.has(key) : this.#own[at + 1] !== null;
  }

  override set(name: string, value: string): void {
    const key = this.#key(name);
    if (key !== undefined && typeof value === 'string') {
      const trimmed = normalise(value);
      if (!BAD_VALUE.test(trimmed)) {
        this.#record(key, trimmed);
        return;
      }
    }
    // Not a plain valid value: Headers converts it, or throws its own TypeError.
    this[kFill]();
    super.set(name, value);
  }

  override delete(name: string): void {
    const key = this.#key(name);
    if (key === undefined) super.delete(name);
    else this.#record(key, null);
  }

  /** See {@link headerList}. */
  list(): string[] {
    const base = this.#base;
    if (base === undefined) return listOf(this);
    const own = this.#own;
    const from = base.list();
    // Nothing of the client's to hide, nothing deleted (the usual pass): the own list as it is.
    if (from.length === 0 && !own.includes(null)) return own as string[];
    const list: string[] = [];
    for (let i = 0; i < from.length; i += 2) {
      if (indexOf(own, from[i]!) === -1) list.push(from[i]!, from[i + 1]!);
    }
    for (let i = 0; i < own.length; i += 2) {
      if (own[i + 1] !== null) list.push(own[i]!, own[i + 1]!);
    }
    return list;
  }
}

/** Where `key` is in a pair list, or -1. */
function indexOf(pairs: ReadonlyArray<string | null>, key: string): number {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === key) return i;
  return -1;
}

function listOf(headers: Headers): string[] {
  const list: string[] = [];
  for (const [name, value] of headers) list.push(name, value);
  return list;
}

/**
 * Request headers as a flat `[name, value, …]` list (lower-case names), for a wire API that takes
 * one (undici's `dispatch`): a client's own are listed once, a pass's that were only set or
 * deleted are listed without building their Headers, any other Headers is iterated. The list may be
 * shared with the headers it came from: read it, never change it.
 * @example
 * dispatcher.dispatch({ origin, path, method, headers: headerList(peekHeaders(ctx.request)) }, handler);
 */
export function headerList(headers: Headers): string[] {
  if (headers instanceof ClientHeaders || headers instanceof PassHeaders) return headers.list();
  return listOf(headers);
}
