// What a transport hands core's body policy (body-policy.ts) and what the policy offers back: the
// contract between wire I/O, which each transport does, and the rest, which core does once.
import type { BodyLimitOptions, RawBody } from './body.js';
import type { HeaderSource } from './record-headers.js';
import type { Context, HttpResponse } from './types.js';

/**
 * A header as a transport received it: repeated ones as an array, `null`/`undefined` when absent.
 * @example
 * const encoding: WireHeader = rawHeaders['content-encoding']; // undici: a string or an array
 */
export type WireHeader = string | readonly string[] | null | undefined;

/**
 * The stream operations the body policy needs, on the platform's streams `S`: `nodeStreams`
 * (node:stream, node:zlib) in the Node build, `webStreams` (Web Streams, DecompressionStream) in the
 * build for browsers and workers.
 * @example
 * const decoded = streams.decode(streams.from(body, mapError), ['gzip']);
 */
export interface BodyStreams<S> {
  /** The platform stream over a raw body; errors of a body it adapts go through `mapError`. */
  from(body: RawBody, mapError: (error: unknown) => unknown): S;
  /** Undoes `codings`, in the order given (see `contentCodings`). */
  decode(stream: S, codings: string[]): S;
  /** Counts bytes: fails past `maxBytes` or off `expectedBytes`, reports progress, maps errors. */
  limit(stream: S, options: BodyLimitOptions): S;
  /** Releases an unread body: drained when small (its connection is reused), else destroyed. Never rejects. */
  discard(stream: S, wireBytes: number | undefined): Promise<void>;
  /** Keeps a failure of a body nobody reads from being unhandled (Node's 'error' event). */
  unhandled(stream: S): S;
}

/**
 * What a transport got off the wire for one response, handed to the function {@link bodyPolicy} returns.
 * @example
 * const wire: WireResponse = { status: 200, statusText: 'OK', headers, contentLength: '2',
 *   contentEncoding: null, location: null, body: Readable.from(['{}']), raw: res };
 */
export interface WireResponse<Raw = unknown> {
  /** The HTTP status code. */
  status: number;
  /** The reason phrase (the standard one when the protocol has none). */
  statusText: string;
  /** The headers; or a function that builds them, or a source they are read from, on first access. */
  headers: Headers | HeaderSource | (() => Headers);
  /** The raw `content-length` (the wire length), `content-encoding` and `location` headers. */
  contentLength: WireHeader;
  /** @see contentLength */
  contentEncoding: WireHeader;
  /** @see contentLength */
  location: WireHeader;
  /**
   * The body as received (decoded already when the policy says `decoded`), or `null` for none; or
   * the whole body's bytes, when the transport collected them itself because
   * {@link BodyPolicy.readsWhole} said the policy would read this body whole.
   */
  body: RawBody | Uint8Array | null;
  /** The backend's own response, exposed as `HttpResponse.raw`. */
  raw: Raw;
  /**
   * Whether the transport itself holds an encoded body to its `content-length` (undici over
   * HTTP/1.1 does); otherwise the policy counts the wire bytes before decoding. @default false
   */
  wireLengthChecked?: boolean;
}

/**
 * How a transport's bodies are handled, given once to {@link bodyPolicy}.
 * @example
 * const options: BodyPolicyOptions<Response> = { maxResponseBytes: undefined, decoded: true, mapError };
 */
export interface BodyPolicyOptions<Raw> {
  /** The transport's `maxResponseBytes`; a call's own overrides it (see `responseLimit`). @default undefined */
  maxResponseBytes: number | undefined;
  /** Whether bodies arrive decoded (fetch decodes itself, undici does not). @default false */
  decoded?: boolean;
  /** Maps a backend error (while reading the body) to the one the caller sees. */
  mapError(error: unknown, ctx: Context): unknown;
  /** Reads a whole body when there is nothing to decode, count or report: the fast path. @default reads `body` */
  readAll?(wire: WireResponse<Raw>): Promise<Uint8Array>;
  /** Awaited once a body has been read to its end (or there was none), before the response goes up. */
  afterBody?(): Promise<void>;
}

/**
 * The head of a response, as {@link BodyPolicy.readsWhole} needs it.
 * @example
 * const head: WireHead = { status: 200, contentLength: '42', contentEncoding: null, location: null };
 */
export type WireHead = Pick<
  WireResponse,
  'status' | 'contentLength' | 'contentEncoding' | 'location'
>;

/**
 * Turns one {@link WireResponse} into the `HttpResponse` of the call `ctx`.
 * @example
 * const respond: BodyPolicy<Response> = bodyPolicy({ maxResponseBytes: undefined, mapError });
 */
export interface BodyPolicy<Raw> {
  /** The `HttpResponse` of the call `ctx`, from what the transport got off the wire. */
  (ctx: Context, wire: WireResponse<Raw>): Promise<HttpResponse>;
  /**
   * Whether the policy reads a body with this head whole at once, with nothing to decode, count,
   * report or throw away (its fast path). A transport that can collect a body more cheaply than it
   * can stream one asks this when the head arrives, and then hands over the bytes as `body`.
   */
  readsWhole(ctx: Context, head: WireHead): boolean;
  /**
   * The `HttpResponse` of a body the transport collected whole (`wire.body` is its bytes), at once:
   * no promise and no turn of the event loop, for a transport that settles its call from a
   * callback. Throws what the policy itself would reject with (a body shorter or longer than its
   * `content-length`). A policy with `afterBody` must be called instead: this does not wait for it.
   */
  collected(ctx: Context, wire: WireResponse<Raw>): HttpResponse;
}
