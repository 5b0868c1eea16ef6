// The Context implementation: one per call, cloned per attempt and per redirect hop.
// A clone is cheap: its headers and sensitive-header set are copied from its parent on first use.
import { copiesThroughIterator } from './lazy-headers.js';
import { ClientHeaders, PassHeaders } from './pass-headers.js';
import type { RedirectMode } from './redirect.js';
import { AbortScope } from './scope.js';
import { type UrlText, urlText } from './url.js';
import type {
  CallInfo,
  Context,
  HttpRequest,
  Progress,
  RequestBody,
  RequestMeta,
} from './types.js';

/** The mutable record behind {@link Context.call}; only core's own steps write it. */
export class CallRecord implements CallInfo {
  lastAttempt = 0;
  redirectCount = 0;
  /** `ctx.state`, made on first use (most calls never use it). */
  state: Map<string | symbol, unknown> | undefined = undefined;
  constructor(
    readonly origin: string,
    readonly redirect: RedirectMode,
    readonly maxRedirects: number,
  ) {}
}

/**
 * The request of a call or of a clone: method, URL and body are its own; its headers are copied,
 * when first written, from its source (the client's headers for a call's first request, else the
 * nearest ancestor that has its own). Most passes never write them, and a chain of clones then
 * copies once; a call that sets no header of its own copies none. Its URL may come as text (see
 * `plainUrl`): the `URL` object is made when someone asks for `url`, and most calls never do.
 */
class PassRequest implements HttpRequest {
  #headers: Headers | undefined;
  readonly #source: HttpRequest | Headers;
  #url: URL | undefined;
  /** The URL's text: all of it until `url` is asked for, then what it was when last read. */
  #text: UrlText | undefined;

  /** With `url`, that URL object; else `text`, of which one is made when `url` is read. */
  constructor(
    source: HttpRequest | Headers,
    public method: string,
    url: URL | undefined,
    text: UrlText | undefined,
    public body: RequestBody | undefined,
    headers: Headers | undefined,
  ) {
    this.#source = source;
    this.#headers = headers;
    this.#url = url;
    this.#text = text;
  }

  get url(): URL {
    this.#url ??= new URL(this.#text!.href);
    return this.#url;
  }

  set url(url: URL) {
    this.#url = url;
    this.#text = undefined;
  }

  /** The URL as text; read off the `URL` again once one was handed out (it may have changed). */
  urlText(): UrlText {
    const url = this.#url;
    const text = this.#text;
    if (url === undefined) return text!;
    if (text !== undefined && url.href === text.href) return text;
    this.#text = urlText(url);
    return this.#text;
  }

  get headers(): Headers {
    if (this.#headers === undefined) {
      const source = this.peekHeaders();
      // The client's own never change: a pass's writes are kept over them instead of a copy,
      // where the runtime copies a Headers through its iterator (see copiesThroughIterator).
      this.#headers =
        source instanceof ClientHeaders && copiesThroughIterator
          ? new PassHeaders(source)
          : new Headers(source);
    }
    return this.#headers;
  }

  set headers(headers: Headers) {
    this.#headers = headers;
  }

  /** The headers this request would copy now, without copying them. */
  peekHeaders(): Headers {
    if (this.#headers !== undefined) return this.#headers;
    const source = this.#source;
    return source instanceof Headers ? source : peekHeaders(source);
  }
}

/** The headers of a call whose client sets none and which sets none itself: never written. */
const NO_HEADERS = new ClientHeaders();

/**
 * The first request of a call, without a body yet: the client's own `Headers` (or none) are read
 * in place and copied only when the call's options or a middleware write to `request.headers`. Its
 * URL is a `URL` or, for a URL the parser would give back as it is, only its text (see `plainUrl`).
 */
export function callRequest(
  method: string,
  url: URL | undefined,
  text: UrlText | undefined,
  base: ClientHeaders | undefined,
): HttpRequest {
  return new PassRequest(base ?? NO_HEADERS, method, url, text, undefined, undefined);
}

/**
 * Whether `request` sends its client's own headers `base` as they are: neither the call nor a
 * middleware has written one (a check of the client's headers made once holds for it).
 */
export function sendsClientHeaders(request: HttpRequest, base: Headers | undefined): boolean {
  return peekHeaders(request) === (base ?? NO_HEADERS);
}

/**
 * The headers `request` would send, for a reader that does not change them (a transport, a check):
 * a clone's are read from the pass it was cloned from until someone writes to its own, so reading
 * them this way makes no copy. Write through `request.headers`.
 * @example
 * const headers = peekHeaders(ctx.request); // iterate, get, has: never set
 */
export function peekHeaders(request: HttpRequest): Headers {
  return request instanceof PassRequest ? request.peekHeaders() : request.headers;
}

/**
 * The request's URL as text (href, origin, path), for a reader that does not change it (a
 * transport, a check, a log line): no `URL` object is made for a call whose URL nobody asked for.
 * @example
 * const { origin, path } = requestUrl(ctx.request);
 */
export function requestUrl(request: HttpRequest): UrlText {
  return request instanceof PassRequest ? request.urlText() : urlText(request.url);
}

export class CallContext implements Context {
  request: HttpRequest;
  attempt: number;
  scope: AbortScope;
  meta: RequestMeta;
  readBody: boolean;
  maxResponseBytes?: number;
  onDownloadProgress?: (progress: Progress) => void;
  onUploadProgress?: (progress: Progress) => void;
  readonly #call: CallRecord;
  #sensitive: Set<string> | undefined;
  #sensitiveSource: ReadonlySet<string>;

  /** Every field given: a call's first context (see request.ts) or a clone's. */
  constructor(
    request: HttpRequest,
    attempt: number,
    scope: AbortScope,
    meta: RequestMeta,
    readBody: boolean,
    maxResponseBytes: number | undefined,
    onDownloadProgress: ((progress: Progress) => void) | undefined,
    onUploadProgress: ((progress: Progress) => void) | undefined,
    call: CallRecord,
    sensitive: ReadonlySet<string>,
  ) {
    this.request = request;
    this.attempt = attempt;
    this.scope = scope;
    this.meta = meta;
    this.readBody = readBody;
    this.maxResponseBytes = maxResponseBytes;
    this.onDownloadProgress = onDownloadProgress;
    this.onUploadProgress = onUploadProgress;
    this.#call = call;
    this.#sensitiveSource = sensitive;
  }

  /** What the call decided once, shared by every clone. */
  get call(): CallInfo {
    return this.#call;
  }

  /** Per-call scratch space for middleware, shared by every clone; made on first use. */
  get state(): Map<string | symbol, unknown> {
    this.#call.state ??= new Map();
    return this.#call.state;
  }

  set state(state: Map<string | symbol, unknown>) {
    this.#call.state = state;
  }

  /** A real AbortSignal that follows {@link scope}, made on first use. */
  get signal(): AbortSignal {
    return this.scope.signal;
  }

  /** Replacing the signal keeps the current scope too: the pass aborts when either does. */
  set signal(signal: AbortSignal) {
    this.scope = new AbortScope(this.scope, 0, undefined, signal);
  }

  /** This pass's own set, copied from its parent's on first use. */
  get sensitiveHeaders(): Set<string> {
    if (this.#sensitive === undefined) this.#sensitive = new Set(this.#sensitiveSource);
    return this.#sensitive;
  }

  /** The names in force, without copying them. */
  peekSensitiveHeaders(): ReadonlySet<string> {
    return this.#sensitive ?? this.#sensitiveSource;
  }

  clone(patch: Parameters<Context['clone']>[0] = {}): Context {
    const request = patch.request;
    const from = this.request;
    const given = request?.headers;
    const copy = new PassRequest(
      from,
      request?.method ?? from.method,
      // A URL given to the clone is its own; else it starts from the text of its parent's (a
      // value: writing to one's URL object never changes the other's).
      request?.url,
      request?.url === undefined ? requestUrl(from) : undefined,
      request && 'body' in request ? request.body : from.body,
      given === undefined ? undefined : new Headers(given),
    );
    const scope = patch.scope ?? this.scope;
    return new CallContext(
      copy,
      patch.attempt ?? this.attempt,
      // Replacing the signal keeps the scope too: the pass aborts when either does.
      patch.signal === undefined ? scope : new AbortScope(scope, 0, undefined, patch.signal),
      this.meta,
      patch.readBody ?? this.readBody,
      this.maxResponseBytes,
      this.onDownloadProgress,
      this.onUploadProgress,
      this.#call,
      this.peekSensitiveHeaders(),
    );
  }
}

/**
 * The header names marked sensitive for this pass, without making the pass its own copy (for
 * readers on the hot path). Falls back to `ctx.sensitiveHeaders` for a foreign context.
 */
export function sensitiveHeaderNames(ctx: Context): ReadonlySet<string> {
  return ctx instanceof CallContext ? ctx.peekSensitiveHeaders() : ctx.sensitiveHeaders;
}

/** Core's own steps record what happened to the call (the attempt that reached the wire, hops). */
export function callRecord(ctx: Context): { lastAttempt: number; redirectCount: number } {
  return ctx.call as CallRecord;
}

/**
 * Marks a header as a credential: it is dropped when a redirect leaves the origin, like `Authorization`.
 * Auth middleware call it for every header they set.
 * @example
 * ctx.request.headers.set('x-partner-key', key);
 * markSensitiveHeader(ctx, 'x-partner-key');
 */
export function markSensitiveHeader(ctx: Context, name: string): void {
  const lower = name.toLowerCase();
  // Most marks name a header already on the list (authorization): no copy of the set for those.
  if (!sensitiveHeaderNames(ctx).has(lower)) ctx.sensitiveHeaders.add(lower);
}
