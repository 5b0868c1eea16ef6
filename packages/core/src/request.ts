// A call's first step: its options checked (own keys only, unknown ones refused) and turned into the
// Context the stack runs on: URL, headers, body, the call's scope (deadline, caller's signal), policy.
import { base64, bodyLength } from './body.js';
import {
  isRecord,
  REDIRECT_MODES,
  type ResolvedClientOptions,
  setHeaders,
} from './client-options.js';
import { CallContext, CallRecord, callRequest, peekHeaders } from './context.js';
import { isToken } from './lazy-headers.js';
import { isStreamBody } from './request-body.js';
import { ConfigError, TimeoutError } from './errors.js';
import { option, unknownOption } from './options.js';
import type { RedirectMode } from './redirect.js';
import { AbortScope } from './scope.js';
import type { Context, Progress, RequestBody, RequestMeta } from './types.js';
import {
  appendQuery,
  originOf,
  parseHttpUrl,
  type Query,
  resolvePlainUrl,
  resolveUrl,
} from './url.js';

// The global HeadersInit exists only with the DOM lib; users on @types/node alone have Headers but
// not HeadersInit, so the published declarations must not name it.
type HeadersInit = ConstructorParameters<typeof Headers>[0];

export type { Query, QueryValue } from './url.js';

/** Options of one call. Every field is optional; client options give the defaults. */
export interface RequestOptions {
  /** @default 'GET' */
  method?: string;
  /** Merged over the client's `headers`; a `null` or `undefined` value removes a default header. */
  headers?: HeadersInit | Record<string, string | null | undefined>;
  /** Query parameters appended to the URL. Arrays repeat the key; `undefined` values are dropped. */
  query?: Query;
  /** A value serialised as JSON; sets `content-type: application/json` unless given. Not with `body`. */
  json?: unknown;
  /** The body: string, bytes, URLSearchParams, FormData, Blob, a stream or an async iterable. */
  body?: RequestBody;
  /** Aborts the call; it rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** A deadline for the whole call in ms (`TimeoutError`); `0` means none. @default client's `timeoutMs` */
  timeoutMs?: number;
  /** A low-cardinality route such as `/items/:id`, for metrics and span names. */
  pathTemplate?: string;
  /** Read the body before middleware see the response. `false` gives `res.body` as a stream. @default true */
  readBody?: boolean;
  /** Free-form data for middleware. */
  meta?: RequestMeta;
  /** @default client's `redirect` */
  redirect?: RedirectMode;
  /** @default client's `maxRedirects` */
  maxRedirects?: number;
  /** Overrides the transport's `maxResponseBytes` for this call. */
  maxResponseBytes?: number;
  /** Called as the request body is sent, at most every 50 ms and once at the end. */
  onUploadProgress?: (progress: Progress) => void;
  /** Called as the response body is read, at most every 50 ms and once at the end. */
  onDownloadProgress?: (progress: Progress) => void;
}

// Every request option, once: the list of known keys cannot drift from RequestOptions.
const REQUEST_KEYS = {
  method: true,
  headers: true,
  query: true,
  json: true,
  body: true,
  signal: true,
  timeoutMs: true,
  pathTemplate: true,
  readBody: true,
  meta: true,
  redirect: true,
  maxRedirects: true,
  maxResponseBytes: true,
  onUploadProgress: true,
  onDownloadProgress: true,
} satisfies Record<keyof RequestOptions, true>;
/** The names of every request option, for "did you mean" hints. */
export const REQUEST_KEY_LIST: readonly string[] = Object.keys(REQUEST_KEYS);
/** A call's options as read: every field an own one, so reads never reach a prototype. */
export class CallOptions implements Record<keyof RequestOptions, unknown> {
  method: unknown = undefined;
  headers: unknown = undefined;
  query: unknown = undefined;
  json: unknown = undefined;
  body: unknown = undefined;
  signal: unknown = undefined;
  timeoutMs: unknown = undefined;
  pathTemplate: unknown = undefined;
  readBody: unknown = undefined;
  meta: unknown = undefined;
  redirect: unknown = undefined;
  maxRedirects: unknown = undefined;
  maxResponseBytes: unknown = undefined;
  onUploadProgress: unknown = undefined;
  onDownloadProgress: unknown = undefined;
}

// Per-call checks, built once.
const checkTimeout = option.ms();
const checkReadBody = option.boolean();
const checkRedirect = option.oneOf(REDIRECT_MODES);
const checkMaxRedirects = option.integer();
const checkMaxResponseBytes = option.integer({ infinity: true });
const checkProgress = option.fn<(progress: Progress) => void>();
const checkPathTemplate = option.string();

/**
 * The call's options as own values only: every known key is an own field of the result (so a
 * polluted Object.prototype fills none of them), and an unknown key is a `ConfigError`. `method`,
 * when given (`client.get` and the like), wins over the options' own.
 */
export function readRequestOptions(options: unknown, method?: string): CallOptions {
  if (options === undefined) return noOptions(method);
  if (!isRecord(options)) throw new ConfigError('options', options, 'expected an object');
  const o = new CallOptions();
  for (const key in options) {
    if (!Object.hasOwn(options, key)) continue; // inherited: a polluted prototype's, not the caller's
    if (!Object.hasOwn(REQUEST_KEYS, key)) throw unknownOption('request()', key, REQUEST_KEY_LIST);
    o[key as keyof RequestOptions] = options[key];
  }
  if (method !== undefined) o.method = method;
  return o;
}

// The options of a call given none, one frozen set per method (client.get and the like): shared,
// since nothing writes the options once they are read.
const NO_OPTIONS = new Map<string | undefined, CallOptions>();

function noOptions(method: string | undefined): CallOptions {
  let o = NO_OPTIONS.get(method);
  if (o === undefined) {
    o = new CallOptions();
    o.method = method;
    NO_OPTIONS.set(method, Object.freeze(o));
  }
  return o;
}

// The methods of the client's own shortcuts, which need no check or upper-casing.
const STANDARD_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

function isSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

/**
 * Builds the Context of one call from its checked options: the URL (joined onto `baseUrl`), the
 * headers (client's, then the call's), the body (`json` serialised, forms encoded), and the call's
 * root scope, which holds its deadline (`timeoutMs`) and follows the caller's signal.
 * With `origin` (a page of `client.paginate()`), `input` is an absolute URL its caller already
 * checked: it is not joined onto `baseUrl`, and the call's credentials belong to `origin`, so the
 * redirect step drops them when `input` is on another one.
 */
export function buildContext(
  input: string | URL,
  o: CallOptions,
  resolved: ResolvedClientOptions,
  origin?: string,
): Context {
  const rawMethod = o.method ?? 'GET';
  let method = rawMethod as string;
  if (!STANDARD_METHODS.has(method)) {
    // ASCII only, so `ſet` is refused rather than upper-cased to `SET`.
    if (!isToken(rawMethod)) {
      throw new ConfigError('method', rawMethod, 'expected an HTTP method token');
    }
    method = rawMethod.toUpperCase();
  }
  // Most calls' URLs are plain text the parser would give back as it is: no URL is made for those.
  const text =
    origin === undefined && o.query === undefined
      ? resolvePlainUrl(input, resolved.base)
      : undefined;
  let url: URL | undefined;
  if (text === undefined) {
    url =
      origin === undefined
        ? resolveUrl(input, resolved.base, resolved.allowAbsoluteUrls)
        : parseHttpUrl('url', input);
    if (o.query !== undefined) appendQuery(url, o.query as Query);
  }

  // The client's headers are read in place: the request copies them only when one is written.
  const request = callRequest(method, url, text, resolved.headers);
  if (o.headers !== undefined) {
    setHeaders(request.headers, 'headers', o.headers, resolved.sensitiveHeaders);
  }
  if (url !== undefined && (url.username !== '' || url.password !== '')) {
    // Userinfo is a credential: it goes out as Basic auth (as curl does) unless the call sets
    // Authorization, and never stays in the URL, where fetch refuses it and errors, logs and
    // spans would show it.
    if (!peekHeaders(request).has('authorization')) {
      const pair = `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`;
      request.headers.set('authorization', `Basic ${base64(pair)}`);
    }
    url.username = '';
    url.password = '';
  }

  let body = o.body as RequestBody | undefined;
  if (o.json !== undefined) {
    if (body !== undefined)
      throw new ConfigError('json', '[json and body]', 'give either json or body, not both');
    body = JSON.stringify(o.json);
    if (!peekHeaders(request).has('content-type'))
      request.headers.set('content-type', 'application/json');
  } else if (body instanceof URLSearchParams) {
    body = body.toString();
    if (!peekHeaders(request).has('content-type')) {
      request.headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    }
  }
  if (
    body !== undefined &&
    bodyLength(body) === undefined &&
    !isStreamBody(body) &&
    !(body instanceof FormData)
  ) {
    throw new ConfigError(
      'body',
      body,
      'expected a string, bytes, URLSearchParams, FormData, Blob, stream or async iterable',
    );
  }
  if (o.signal !== undefined && !isSignal(o.signal)) {
    throw new ConfigError('signal', o.signal, 'expected an AbortSignal');
  }
  const meta = o.meta;
  if (meta !== undefined && !isRecord(meta))
    throw new ConfigError('meta', meta, 'expected an object');
  const pathTemplate = checkPathTemplate(o.pathTemplate, 'pathTemplate');

  const timeoutMs = checkTimeout(o.timeoutMs, 'timeoutMs') ?? resolved.timeoutMs;
  // Made only for a call with a deadline: most have none.
  const onTimeout =
    timeoutMs > 0
      ? () =>
          new TimeoutError(timeoutMs, {
            method: ctx.request.method,
            url: ctx.request.url,
            attempt: ctx.call.lastAttempt || ctx.attempt,
            phase: 'request',
          })
      : undefined;
  request.body = body;
  // A call's first context, from values checked here: no object of fields, no defaults to look up.
  const ctx: Context = new CallContext(
    request,
    1,
    new AbortScope(undefined, timeoutMs, onTimeout, o.signal as AbortSignal | undefined),
    pathTemplate === undefined ? { ...meta } : { ...meta, pathTemplate },
    checkReadBody(o.readBody, 'readBody') ?? resolved.readBody,
    checkMaxResponseBytes(o.maxResponseBytes, 'maxResponseBytes'),
    checkProgress(o.onDownloadProgress, 'onDownloadProgress'),
    checkProgress(o.onUploadProgress, 'onUploadProgress'),
    new CallRecord(
      origin ?? text?.origin ?? originOf(url!),
      checkRedirect(o.redirect, 'redirect') ?? resolved.redirect,
      checkMaxRedirects(o.maxRedirects, 'maxRedirects') ?? resolved.maxRedirects,
    ),
    resolved.sensitiveSet,
  );
  return ctx;
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
