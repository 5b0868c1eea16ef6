// createContext(): a Context built from named fields with defaults, for middleware authors' unit
// tests and for code that runs a stack by hand. The client builds its own in request.ts.
import { CallContext, CallRecord } from './context.js';
import { AbortScope } from './scope.js';
import type { CallInfo, Context, HttpRequest, Progress, RequestMeta } from './types.js';

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
  /** What the call decided once; default: the request's origin, `follow`, 5 redirects. */
  call?: Partial<Pick<CallInfo, 'origin' | 'redirect' | 'maxRedirects'>>;
  /** Called as the response body is read. */
  onDownloadProgress?: (progress: Progress) => void;
  /** Called as the request body is sent. */
  onUploadProgress?: (progress: Progress) => void;
}

function own<K extends keyof ContextInit>(init: ContextInit, key: K): ContextInit[K] | undefined {
  return Object.hasOwn(init, key) ? init[key] : undefined;
}

const NO_NAMES: ReadonlySet<string> = new Set();

/**
 * Builds a {@link Context}. The client does this for every call; middleware authors use it in unit tests.
 * @example
 * const ctx = createContext({ request: { method: 'GET', url: new URL('http://x/'), headers: new Headers(), body: undefined } });
 */
export function createContext(init: ContextInit): Context {
  // Own fields only: a polluted Object.prototype must not fill a field left out.
  const request = init.request;
  const signal = own(init, 'signal');
  const given = own(init, 'scope');
  const scope =
    given === undefined
      ? new AbortScope(undefined, 0, undefined, signal)
      : signal === undefined
        ? given
        : new AbortScope(given, 0, undefined, signal);
  const call = own(init, 'call') ?? {};
  const record = new CallRecord(
    (Object.hasOwn(call, 'origin') ? call.origin : undefined) ?? request.url.origin,
    (Object.hasOwn(call, 'redirect') ? call.redirect : undefined) ?? 'follow',
    (Object.hasOwn(call, 'maxRedirects') ? call.maxRedirects : undefined) ?? 5,
  );
  record.state = own(init, 'state');
  const names = own(init, 'sensitiveHeaders');
  return new CallContext(
    request,
    own(init, 'attempt') ?? 1,
    scope,
    own(init, 'meta') ?? {},
    own(init, 'readBody') ?? true,
    own(init, 'maxResponseBytes'),
    own(init, 'onDownloadProgress'),
    own(init, 'onUploadProgress'),
    record,
    names === undefined
      ? NO_NAMES
      : names instanceof Set
        ? names // the caller's set: copied on first write, never changed
        : new Set([...names].map((n) => n.toLowerCase())),
  );
}
