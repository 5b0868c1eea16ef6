// The Context implementation: one per call, cloned per attempt and per redirect hop.
// A class rather than a closure because a call may clone it several times and the prototype method is cheaper.
import { AbortScope } from './scope.js';
import type { Context, HttpRequest, Progress, RequestMeta } from './types.js';

/** Fields to build a {@link Context} from; everything but `request` has a default. */
export interface ContextInit {
  /** The request of the first pass; see {@link Context.request}. */
  request: HttpRequest;
  /** An outside signal that aborts the call (the caller's); default none. */
  signal?: AbortSignal;
  /** The call's cancellation scope; default a new root scope (following `signal` when given). */
  scope?: AbortScope;
  /** The 1-based attempt number; default `1`. */
  attempt?: number;
  /** Caller-supplied data; default `{}`. */
  meta?: RequestMeta;
  /** Per-call scratch space for middleware; default a new `Map`. */
  state?: Map<string | symbol, unknown>;
  /** Whether the transport buffers the body; default `true`. */
  readBody?: boolean;
  /** Per-call override of the transport's `maxResponseBytes`. */
  maxResponseBytes?: number;
  /** Header names dropped on a cross-origin redirect; default none. */
  sensitiveHeaders?: Iterable<string>;
  /** Called as the response body is read. */
  onDownloadProgress?: (progress: Progress) => void;
  /** Called as the request body is sent. */
  onUploadProgress?: (progress: Progress) => void;
}

function own<K extends keyof ContextInit>(init: ContextInit, key: K): ContextInit[K] | undefined {
  return Object.hasOwn(init, key) ? init[key] : undefined;
}

class CallContext implements Context {
  request: HttpRequest;
  attempt: number;
  scope: AbortScope;
  meta: RequestMeta;
  state: Map<string | symbol, unknown>;
  readBody: boolean;
  maxResponseBytes?: number;
  sensitiveHeaders: Set<string>;
  onDownloadProgress?: (progress: Progress) => void;
  onUploadProgress?: (progress: Progress) => void;

  constructor(init: ContextInit) {
    // Own fields only, read without copying (this runs per call and per attempt): a polluted
    // Object.prototype (signal, state, maxResponseBytes…) must not fill a field left out. Every
    // field is an own property even when undefined, so reads of ctx never reach the prototype.
    this.request = init.request;
    this.attempt = own(init, 'attempt') ?? 1;
    const signal = own(init, 'signal');
    const scope = own(init, 'scope');
    this.scope =
      scope === undefined
        ? new AbortScope(undefined, 0, undefined, signal)
        : signal === undefined
          ? scope
          : new AbortScope(scope, 0, undefined, signal);
    this.meta = own(init, 'meta') ?? {};
    this.state = own(init, 'state') ?? new Map();
    this.readBody = own(init, 'readBody') ?? true;
    this.maxResponseBytes = own(init, 'maxResponseBytes');
    this.sensitiveHeaders = new Set(own(init, 'sensitiveHeaders'));
    this.onDownloadProgress = own(init, 'onDownloadProgress');
    this.onUploadProgress = own(init, 'onUploadProgress');
  }

  /** A real AbortSignal that follows {@link scope}, made on first use. */
  get signal(): AbortSignal {
    return this.scope.signal;
  }

  /** Replacing the signal keeps the current scope too: the pass aborts when either does. */
  set signal(signal: AbortSignal) {
    this.scope = new AbortScope(this.scope, 0, undefined, signal);
  }

  clone(patch: Parameters<Context['clone']>[0] = {}): Context {
    const request = patch.request;
    return new CallContext({
      request: {
        method: request?.method ?? this.request.method,
        url: request?.url ?? this.request.url,
        headers: new Headers(request?.headers ?? this.request.headers),
        body: request && 'body' in request ? request.body : this.request.body,
      },
      attempt: patch.attempt ?? this.attempt,
      scope: patch.scope ?? this.scope,
      signal: patch.signal,
      readBody: patch.readBody ?? this.readBody,
      meta: this.meta,
      state: this.state,
      maxResponseBytes: this.maxResponseBytes,
      sensitiveHeaders: this.sensitiveHeaders,
      onDownloadProgress: this.onDownloadProgress,
      onUploadProgress: this.onUploadProgress,
    });
  }
}

/**
 * Builds a {@link Context}. The client does this for every call; middleware authors use it in unit tests.
 * @example
 * const ctx = createContext({ request: { method: 'GET', url: new URL('http://x/'), headers: new Headers(), body: undefined } });
 */
export function createContext(init: ContextInit): Context {
  return new CallContext(init);
}

/**
 * Marks a header as a credential: it is dropped when a redirect leaves the origin, like `Authorization`.
 * Auth middleware call it for every header they set.
 * @example
 * ctx.request.headers.set('x-partner-key', key);
 * markSensitiveHeader(ctx, 'x-partner-key');
 */
export function markSensitiveHeader(ctx: Context, name: string): void {
  ctx.sensitiveHeaders.add(name.toLowerCase());
}
