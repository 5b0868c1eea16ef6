// The core contract: Context, Next, Middleware, Handler/Transport and HttpResponse.
// Every other file in every package is written against these types; changing them is a major version.
// The Node build's types on Node, the web build's elsewhere (package.json `node`/`default` conditions).
import type { BodyStream, NodeStream } from '@extapi/core/platform-types';
import type { RedirectMode } from './redirect.js';
import type { AbortScope } from './scope.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/** A request body as the client accepts it. Streams and async iterables are sent once and cannot be replayed. */
export type RequestBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | URLSearchParams
  | FormData
  | Blob
  | ReadableStream<Uint8Array>
  | NodeStream
  | AsyncIterable<Uint8Array>;

/**
 * Free-form data that travels with a call, for middleware (metrics, tracing, third parties).
 * Extend it with declaration merging: `declare module '@extapi/core' { interface RequestMeta { tenant?: string } }`.
 */
export interface RequestMeta {
  /** A low-cardinality route such as `/items/:id`, for metric labels and span names. */
  pathTemplate?: string;
  [key: string]: unknown;
}

/**
 * The request that one pass through the pipeline sends. Each call has its own, and `retry()`
 * gives each attempt a copy, so a middleware may set headers on the one it receives; to change
 * the request only for the layers below it, change it on `ctx.clone()`.
 */
export interface HttpRequest {
  /** Upper-case method token, e.g. `GET`. */
  method: string;
  /** The absolute URL, query included. */
  url: URL;
  /** The request headers (case-insensitive, WHATWG `Headers`). */
  headers: Headers;
  /** The body, already normalised by the client (`json` serialised, forms encoded). */
  body: RequestBody | undefined;
}

/** Progress of an upload or a download, as given to `onUploadProgress` / `onDownloadProgress`. */
export interface Progress {
  /** Bytes sent or received so far. */
  transferredBytes: number;
  /** The expected total in bytes, when known. */
  totalBytes?: number;
  /** Progress from 0 to 100, present when `totalBytes` is known. */
  percent?: number;
}

/** What a call decided once and what happened to it, shared by every attempt and hop (read-only). */
export interface CallInfo {
  /** The origin the call was made for: credentials never leave it. */
  readonly origin: string;
  /** The redirect mode in force for this call. */
  readonly redirect: RedirectMode;
  /** The redirect limit in force for this call. */
  readonly maxRedirects: number;
  /** The attempt that last reached the transport (0 before any did). */
  readonly lastAttempt: number;
  /** How many redirect hops the call has followed so far. */
  readonly redirectCount: number;
}

/**
 * The state of one call as it passes through the onion.
 * `state` and `meta` are shared by every attempt of a call; `request` and `sensitiveHeaders`
 * belong to one attempt (see {@link Context.clone}).
 */
export interface Context {
  /** What this pass sends. */
  request: HttpRequest;
  /** 1-based attempt number; `retry()` sets it on each clone. */
  attempt: number;
  /**
   * Aborts when the caller aborts or a deadline passes; every wait and I/O must listen to it.
   * A real `AbortSignal`, made on first use from {@link Context.scope}: prefer the scope on hot
   * paths (its listeners are plain functions).
   */
  signal: AbortSignal;
  /**
   * The cancellation of this pass: `onAbort(fn)`, `race(promise)`, `aborted`, `reason`, and
   * `child(ms)` for a shorter deadline (as `timeout()` does). One per call, a child per deadline.
   */
  readonly scope: AbortScope;
  /** Caller-supplied data (`pathTemplate` and anything third-party middleware need). */
  meta: RequestMeta;
  /** What the call decided once (origin, redirect policy) and how far it got; shared by every attempt. */
  readonly call: CallInfo;
  /** Per-call scratch space for middleware, shared by every attempt of the call. */
  state: Map<string | symbol, unknown>;
  /** Whether the transport reads the body before the response travels back out. */
  readBody: boolean;
  /** Per-call override of the transport's `maxResponseBytes`. */
  maxResponseBytes?: number;
  /**
   * Lower-case names of headers that must not follow a redirect to another origin (the client's
   * list and those middleware marked with `markSensitiveHeader`).
   */
  readonly sensitiveHeaders: Set<string>;
  /** Called as the response body is read; only the transports call it. */
  onDownloadProgress?: (progress: Progress) => void;
  /** Called as the request body is sent; only the transports call it. */
  onUploadProgress?: (progress: Progress) => void;
  /**
   * A copy for a new attempt or hop: its own `request` (with its own `Headers` and its own `URL`,
   * made from the parent's as it is now) and its own `sensitiveHeaders`, the same `scope`, `call`, `meta` and `state`. `patch` overrides fields of
   * the copy (`scope` or `signal` for a shorter-lived pass). Cheap: the headers and the
   * sensitive-header set are copied from the parent when the copy first touches them.
   */
  clone(
    patch?: Partial<Pick<Context, 'attempt' | 'signal' | 'scope' | 'readBody'>> & {
      request?: Partial<HttpRequest>;
    },
  ): Context;
}

/** A response as every middleware and the caller see it, whichever transport produced it. */
export interface HttpResponse {
  /** The HTTP status code. */
  readonly status: number;
  /** The reason phrase (empty when the server or protocol sends none). */
  readonly statusText: string;
  /** `true` for 200–299. */
  readonly ok: boolean;
  /** Case-insensitive, multi-valued (`getSetCookie()` for `set-cookie`). */
  readonly headers: Headers;
  /** The final URL, after redirects. */
  readonly url: string;
  /** The method of the request that produced this response. */
  readonly method: string;
  /**
   * The body as a stream when it was not read (`readBody: false`), else `null`. Its type follows
   * the runtime's build ({@link BodyStream}): a Node `Readable` under the `node` export condition
   * (Node, Bun, Deno, jest), a web `ReadableStream<Uint8Array>` under `default` (browsers,
   * workers). `bytes()`, `text()`, `json()` and `discard()` work the same on both.
   * @example
   * const res = await client.get('/export.csv', { readBody: false });
   * for await (const chunk of res.body!) size += chunk.byteLength; // Node; webChunks() elsewhere
   */
  readonly body: BodyStream | null;
  /** Whether the body is already buffered (so `bytes()`/`text()`/`json()` can be called again). */
  readonly bodyRead: boolean;
  /** The backend's own response object (undici's `ResponseData`, or fetch's `Response`). */
  readonly raw: unknown;
  /** The decoded body bytes. */
  bytes(): Promise<Uint8Array>;
  /** The body decoded as UTF-8. */
  text(): Promise<string>;
  /** The body parsed as JSON; an invalid body rejects with an error naming the status and the first bytes. */
  json<T = unknown>(): Promise<T>;
  /**
   * The body parsed as JSON and checked by `schema`, any Standard Schema (zod 3.24+, valibot 1,
   * arktype 2…), resolving to the schema's output (its type is inferred from the schema). A
   * mismatch rejects with `ResponseValidationError` (issues, status; no body value in its message).
   */
  json<S extends StandardSchemaV1>(schema: S): Promise<StandardSchemaV1.InferOutput<S>>;
  /** Drains (small bodies) or destroys (large ones) an unread body so its connection is released. Never rejects. */
  discard(): Promise<void>;
  /** Discards an unread body, for `await using`; see {@link HttpResponse.discard}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Calls the rest of the pipeline. Without an argument it passes the same `ctx`. */
export type Next = (ctx?: Context) => Promise<HttpResponse>;

/** One layer of the onion: may act before and after `next`, call it again, or answer without it. */
export type Middleware = (ctx: Context, next: Next) => Promise<HttpResponse>;

/** The end of a pipeline: answers a context and never calls `next`. */
export type Handler = (ctx: Context) => Promise<HttpResponse>;

/** A terminal handler that owns connections, made by a backend package. */
export interface Transport extends Handler {
  /** Marks the function as a transport so `createClient` can tell it from middleware. */
  readonly isTransport: true;
  /** A short name (`undici`, `fetch`, `mock`) for `client.describe()` and errors. */
  readonly transportName: string;
  /** Releases the transport's connections; resources passed in by the user are left open. */
  close(): Promise<void>;
}
