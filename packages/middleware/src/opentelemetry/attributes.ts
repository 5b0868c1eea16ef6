// Pure helpers for the OpenTelemetry HTTP client semantic conventions: method, span name, error.type,
// request attributes and redirect hops. Used by index.ts and options.ts; no @opentelemetry import here.
import { errorName, redactUrl, type Context, type HttpRequest } from '@extapi/core';
import { joinedNames } from '../shared/joined-names.js';

/** The bucket boundaries the conventions advise for `http.client.request.duration`, in seconds. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

// RFC 9110 methods, PATCH (RFC 5789) and QUERY: anything else is `_OTHER` in low-cardinality places.
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

/**
 * The `http.request.method` value: the method itself when the conventions know it, else `_OTHER`.
 * @example
 * semconvMethod('GET'); // 'GET'
 * semconvMethod('PURGE'); // '_OTHER'
 */
export function semconvMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/**
 * The span name: `{METHOD} {pathTemplate}` with a template, else `{METHOD}`; `HTTP` for an unknown method.
 * @example
 * defaultSpanName(ctx); // 'GET /items/:id'
 */
export function defaultSpanName(ctx: Context): string {
  const method = semconvMethod(ctx.request.method);
  if (method === '_OTHER') return 'HTTP';
  const template = ctx.meta.pathTemplate;
  return typeof template === 'string' && template !== ''
    ? templateSpanName(method, template)
    : method;
}

// Span names by method, then template: a call names its span even when no SDK records it, and
// `GET /items/:id` joined again would be a new string every time. Templates are low-cardinality,
// but past MAX_NAMED_TEMPLATES a name is built and not kept.
const MAX_NAMED_TEMPLATES = 1000;
const templateSpanName = joinedNames(
  MAX_NAMED_TEMPLATES,
  (method: string, template: string) => `${method} ${template}`,
);

/**
 * The port a URL connects to: its own, else 80 for `http:` and 443 for `https:`.
 * @example
 * serverPort(new URL('https://api.example.com/')); // 443
 */
export function serverPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/**
 * `error.type` for a failure without a usable status: the error's class name (`TransportError`,
 * `TimeoutError`), `AbortError` for an abort DOMException, `_OTHER` when nothing names it.
 * @example
 * errorType(new TypeError('x')); // 'TypeError'
 */
export function errorType(error: unknown): string {
  return errorName(error) ?? '_OTHER';
}

/**
 * `url.full`: the URL without userinfo and with secret values redacted in its query, fragment
 * and path parameters, as core's `redactUrl` writes it. A URL with none of these is used as is.
 * @example
 * fullUrl(new URL('https://u:p@api.test/?token=t')); // 'https://api.test/?token=[REDACTED]'
 */
export function fullUrl(url: URL): string {
  // redactUrl gives an href with nothing to redact back as it is, without a copy.
  return redactUrl(url);
}

/** The attributes every span of one pass carries, known before it is sent. */
export interface RequestAttributes {
  /** The method, or `_OTHER` when it is not a known one. */
  'http.request.method': string;
  /** The original method, set only when `http.request.method` is `_OTHER`. */
  'http.request.method_original'?: string;
  /** The host name of the URL. */
  'server.address': string;
  /** The port, explicit or the scheme's default. */
  'server.port': number;
  /** The URL, without userinfo and with secret query values redacted. */
  'url.full': string;
  /** The scheme, e.g. `https`. */
  'url.scheme': string;
  /** The `pathTemplate` of the call, when given. */
  'url.template'?: string;
}

/**
 * The request-side span attributes of one pass: method, server, redacted `url.full`
 * (no userinfo, secret query values replaced as logging does), scheme and template.
 * @example
 * span.setAttributes(requestAttributes(ctx.request, ctx.meta.pathTemplate));
 */
export function requestAttributes(request: HttpRequest, pathTemplate: unknown): RequestAttributes {
  const { method, url } = request;
  const known = semconvMethod(method);
  const attributes: RequestAttributes = {
    'http.request.method': known,
    'server.address': url.hostname,
    'server.port': serverPort(url),
    'url.full': fullUrl(url),
    'url.scheme': url.protocol.slice(0, -1),
  };
  if (known !== method) attributes['http.request.method_original'] = method;
  if (typeof pathTemplate === 'string' && pathTemplate !== '')
    attributes['url.template'] = pathTemplate;
  return attributes;
}

/**
 * How many redirect hops the client followed inside this pass. Core's last step counts them in
 * `ctx.call.redirectCount`, shared by every attempt, so a value left by an earlier attempt only
 * counts when it changed or the response came from another URL.
 * @example
 * const before = ctx.call.redirectCount;
 * const response = await next();
 * redirectHops(ctx, before, response.url);
 */
export function redirectHops(ctx: Context, before: unknown, responseUrl: string): number {
  const after = ctx.call.redirectCount;
  if (after === 0) return 0;
  return after !== before || responseUrl !== ctx.request.url.href ? after : 0;
}
