// `res.raw` of the undici transport: the response as undici gave it, its headers parsed only when
// asked for, and the three the body policy needs read off the raw head in one pass.
import type { Readable } from 'node:stream';
import type { HeaderRecord, HeaderSource, WireResponse } from '@extapi/core';
import { util } from 'undici';

/**
 * `res.raw` of a response from the undici transport: the fields of undici's own `ResponseData`,
 * plus `httpVersion`, the protocol the response came over (`'1.1'` or `'2'`). `body` is the
 * stream a streamed response came in, and `null` when the transport read the body whole (read it
 * through the response). `httpVersion` is absent when the transport cannot know it: a
 * `dispatcher` passed in, or `allowH2` through a proxy.
 * @example
 * const res = await client.get('/');
 * console.log((res.raw as UndiciResponseData).httpVersion); // '2' with allowH2 on an h2 server
 */
export interface UndiciResponseData {
  /** The HTTP status code. */
  statusCode: number;
  /** The reason phrase the server sent (HTTP/1.1 only). */
  statusText: string;
  /** The response headers, names in lower case, repeated ones as an array. */
  headers: HeaderRecord;
  /** The trailers, filled in once the body has been read. */
  trailers: Record<string, string | string[]>;
  /** Always `null`: nothing of the request is kept on its response. */
  opaque: null;
  /** undici's per-request context (the retry handler's state, for one). */
  context: object | undefined;
  /** The stream of a streamed body; `null` when the transport read the body whole. */
  body: Readable | null;
  /** The protocol the response came over; absent when the transport cannot know it. */
  httpVersion?: '1.1' | '2';
}

/**
 * `res.raw`: parses the response headers into undici's record on first access (most calls never
 * look), and, as the {@link HeaderSource} of `res.headers`, answers `get` for one name straight off
 * the raw head (a middleware asking for a header the response lacks parses nothing).
 */
export class RawResponse implements UndiciResponseData, HeaderSource {
  readonly statusCode: number;
  readonly statusText: string;
  #trailers: Record<string, string | string[]> | undefined;
  readonly opaque = null;
  readonly context = undefined;
  body: Readable | null = null;
  httpVersion?: '1.1' | '2';
  #rawHeaders: Buffer[];
  #headers: HeaderRecord | undefined;

  constructor(statusCode: number, statusText: string, rawHeaders: Buffer[]) {
    this.statusCode = statusCode;
    this.statusText = statusText;
    this.#rawHeaders = rawHeaders;
  }

  /** The trailers, made on first access (nearly every response has none). */
  get trailers(): Record<string, string | string[]> {
    this.#trailers ??= {};
    return this.#trailers;
  }

  set trailers(trailers: Record<string, string | string[]>) {
    this.#trailers = trailers;
  }

  get headers(): HeaderRecord {
    if (this.#headers === undefined) {
      this.#headers = util.parseHeaders(this.#rawHeaders) as HeaderRecord;
      this.#rawHeaders = []; // views of a socket read: not kept past their use
    }
    return this.#headers;
  }

  /** HeaderSource: one header by its lowercase name, as undici's record would give it. */
  get(lowerName: string): string | string[] | undefined {
    if (this.#headers !== undefined) return this.#headers[lowerName];
    return rawHeader(this.#rawHeaders, lowerName);
  }

  /** HeaderSource: every header. */
  all(): HeaderRecord {
    return this.headers;
  }
}

/**
 * The value of the header `lowerName` in undici's raw head (values as latin1, a repeated header as
 * an array, as undici's own parser gives them), looking only at names of its length.
 */
function rawHeader(rawHeaders: Buffer[], lowerName: string): string | string[] | undefined {
  let found: string | string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== lowerName.length) continue;
    if (util.headerNameToString(rawHeaders[i]!) !== lowerName) continue;
    found = withValue(found, rawHeaders[i + 1]!);
  }
  return found;
}

/** `found` with one more value of its header: a repeated header becomes an array. */
function withValue(found: string | string[] | undefined, value: Buffer): string | string[] {
  const text = value.toString('latin1');
  if (found === undefined) return text;
  return typeof found === 'string' ? [found, text] : [...found, text];
}

/**
 * Sets the three headers the body policy needs from undici's raw head, in one pass that looks only
 * at names of their lengths (14, 16 and 8).
 */
export function readPolicyHeaders(
  rawHeaders: Buffer[],
  wire: WireResponse<UndiciResponseData>,
): void {
  let contentLength: string | string[] | undefined;
  let contentEncoding: string | string[] | undefined;
  let location: string | string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const { length } = rawHeaders[i]!;
    if (length !== 14 && length !== 16 && length !== 8) continue;
    const name = util.headerNameToString(rawHeaders[i]!);
    if (name === 'content-length') contentLength = withValue(contentLength, rawHeaders[i + 1]!);
    else if (name === 'content-encoding')
      contentEncoding = withValue(contentEncoding, rawHeaders[i + 1]!);
    else if (name === 'location') location = withValue(location, rawHeaders[i + 1]!);
  }
  wire.contentLength = contentLength;
  wire.contentEncoding = contentEncoding;
  wire.location = location;
}
