// The last step before the transport: checks the outgoing request and follows redirects, one
// policy for every transport. Credentials never leave the origin the call was made for.
import { bodyLength, checkedLength, isReplayableBody, webChunks } from './body.js';
import {
  callRecord,
  peekHeaders,
  requestUrl,
  sendsClientHeaders,
  sensitiveHeaderNames,
} from './context.js';
import { ConfigError, ExtapiError, TooManyRedirectsError } from './errors.js';
import { DEFAULT_SENSITIVE_HEADERS } from './redact.js';
import { isStreamBody } from './request-body.js';
import type { Context, Handler, HttpRequest, HttpResponse, Transport } from './types.js';
import { isHttpHref, isHttpUrl } from './url.js';

/** `follow` redirects, hand them back to the caller (`manual`), or fail on one (`error`). */
export type RedirectMode = 'follow' | 'manual' | 'error';

/** Headers that describe a body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

interface RedirectPolicy {
  /** The client's credential headers (the built-in list and its own), dropped on a change of origin. */
  sensitiveHeaders: string[];
  /** The client's own headers, if it has any. */
  headers: Headers | undefined;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/**
 * For transports: whether the redirect step will throw this response's body away (a 3xx with a
 * `location`, and a redirect mode other than `manual`: it is followed or refused). Such a body is
 * neither decoded, counted nor reported as download progress: it only has to be released, and a
 * body that cannot be decoded must not stop the redirect.
 * @example
 * if (isDiscardedRedirect(ctx, status, headers.get('location'))) return createResponse({ ...init, body: stream });
 */
export function isDiscardedRedirect(
  ctx: Context,
  status: number,
  location: string | string[] | null | undefined,
): boolean {
  return (
    isRedirect(status) &&
    location !== null &&
    location !== undefined &&
    ctx.call.redirect !== 'manual'
  );
}

/** A stream body with a `content-length` is held to it (see {@link checkedLength}). */
function withCheckedLength(ctx: Context): Context {
  const { body } = ctx.request;
  // Most requests have no body, or one whose length is known: no header to read.
  if (body === undefined || body === null || !isStreamBody(body)) return ctx;
  const declared = peekHeaders(ctx.request).get('content-length');
  if (declared === null) return ctx;
  // Node's web streams are async iterables already; some runtimes' are not.
  const source =
    Symbol.asyncIterator in body
      ? (body as AsyncIterable<Uint8Array>)
      : webChunks(body as ReadableStream<Uint8Array>);
  return ctx.clone({ request: { body: checkedLength(source, Number(declared)) } });
}

/** Drops every credential header: the fixed list, the client's, and those middleware marked. */
function stripCredentials(ctx: Context, policy: RedirectPolicy): void {
  const headers = ctx.request.headers;
  for (const name of DEFAULT_SENSITIVE_HEADERS) headers.delete(name);
  for (const name of policy.sensitiveHeaders) headers.delete(name);
  for (const name of sensitiveHeaderNames(ctx)) headers.delete(name);
}

/**
 * Refuses what must never reach the wire: other schemes, and framing headers that lie. With
 * `framedBase` false, the client's own headers have neither framing header, so a request that
 * sends them as they are has no header to check.
 */
function checkRequest(request: HttpRequest, policy: RedirectPolicy, framedBase: boolean): void {
  const { href } = requestUrl(request);
  if (!isHttpHref(href)) {
    throw new ConfigError('url', href, 'only http: and https: URLs are allowed');
  }
  if (!framedBase && sendsClientHeaders(request, policy.headers)) return;
  const headers = peekHeaders(request);
  const contentLength = headers.get('content-length');
  if (contentLength !== null) {
    const known = bodyLength(request.body);
    // A merged duplicate ("5, 5") or a value that disagrees with the body is request smuggling material.
    if (!/^\d+$/.test(contentLength) || (known !== undefined && Number(contentLength) !== known)) {
      throw new ConfigError(
        'headers.content-length',
        contentLength,
        `conflicts with the body (${known ?? 'unknown'} bytes)`,
      );
    }
  }
  const host = headers.get('host');
  // A Host set for the first URL is dropped on a hop to another host (as got does), see below.
  if (host !== null && host.toLowerCase() !== request.url.host) {
    throw new ConfigError('headers.host', host, `conflicts with the URL host ${request.url.host}`);
  }
}

/**
 * The handler that ends every client's onion: it checks the request, calls the transport and
 * follows redirects by the policy (`redirect`, `maxRedirects`). 303, and 301/302 after a POST,
 * continue as GET without a body; 307/308 keep method and body. Any hop to another origin (scheme,
 * host or port) carries no credential header.
 */
export function createRedirectStep(transport: Transport, policy: RedirectPolicy): Handler {
  const base = policy.headers;
  const framedBase = base !== undefined && (base.has('content-length') || base.has('host'));
  // Not async: a response that is not a redirect to follow costs one `.then`, not an async frame.
  return function redirects(ctx: Context): Promise<HttpResponse> {
    let sent: Promise<HttpResponse>;
    try {
      callRecord(ctx).lastAttempt = ctx.attempt;
      if (requestUrl(ctx.request).origin !== ctx.call.origin) stripCredentials(ctx, policy);
      checkRequest(ctx.request, policy, framedBase);
      sent = Promise.resolve(transport(withCheckedLength(ctx)));
    } catch (error) {
      return Promise.reject(error);
    }
    return sent.then((response) =>
      isRedirect(response.status) && ctx.call.redirect !== 'manual'
        ? follow(ctx, response)
        : response,
    );
  };

  /** Follows the redirects that begin with `response`, by the call's policy. */
  async function follow(ctx: Context, first: HttpResponse): Promise<HttpResponse> {
    let response = first;
    const mode = ctx.call.redirect;
    const max = ctx.call.maxRedirects;

    let hop = ctx;
    for (let count = 1; isRedirect(response.status); count++) {
      const location = response.headers.get('location');
      if (location === null) return response;
      const from = hop.request;
      await response.discard();
      if (mode === 'error') {
        throw new TooManyRedirectsError(0, {
          method: from.method,
          url: from.url,
          detail: `Redirect (${response.status}) refused by redirect: 'error'`,
        });
      }
      if (count > max) throw new TooManyRedirectsError(max, { method: from.method, url: from.url });
      let url: URL;
      try {
        url = new URL(location, from.url);
      } catch (error) {
        // URL's TypeError keeps the raw text in `input`, which util.inspect prints: a password in
        // it would reach the logs. The cause keeps the message and code only.
        const cause = Object.assign(new TypeError((error as Error).message), {
          code: (error as { code?: unknown }).code,
        });
        throw new ExtapiError('Redirect to an invalid URL', 'ERR_UNSAFE_REDIRECT', {
          method: from.method,
          url: from.url,
          cause,
        });
      }
      if (!isHttpUrl(url)) {
        throw new ExtapiError(`Refusing redirect to ${url.protocol} URL`, 'ERR_UNSAFE_REDIRECT', {
          method: from.method,
          url: from.url,
        });
      }
      // Userinfo in a Location header never becomes credentials.
      url.username = '';
      url.password = '';

      const status = response.status;
      // RFC 9110 §15.4: 303 (and, by long practice, 301/302 after POST) continue as GET without body.
      const toGet =
        status === 303 || ((status === 301 || status === 302) && from.method === 'POST');
      let method = from.method;
      let body = from.body;
      if (toGet) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
      } else if (!isReplayableBody(body)) {
        throw new ExtapiError(
          `Cannot follow a ${status} redirect with a stream body (it was already sent)`,
          'ERR_REDIRECT_BODY',
          { method: from.method, url: from.url },
        );
      }
      hop = hop.clone({ request: { url, method, body } });
      if (toGet) for (const name of BODY_HEADERS) hop.request.headers.delete(name);
      if (url.origin !== from.url.origin) stripCredentials(hop, policy);
      if (url.host !== from.url.host) hop.request.headers.delete('host');
      callRecord(hop).redirectCount = count;
      checkRequest(hop.request, policy, framedBase);
      response = await transport(hop);
    }
    return response;
  }
}
