// undiciTransport(): the terminal of a stack, sending each request through undici's dispatcher (a
// keep-alive Agent) with a handler of its own (handler.ts). Wire I/O only: core follows redirects,
// and its body policy decodes, limits and releases bodies.
import type { Readable } from 'node:stream';
import {
  bodyPolicy,
  type Context,
  defineTransport,
  headerList,
  ExtapiError,
  type HttpResponse,
  outgoingBody,
  peekHeaders,
  type RequestBody,
  type Transport,
} from '@extapi/core';
import { type Dispatcher, FormData as UndiciFormData } from 'undici';
import { CallHandler, type CallSettings } from './handler.js';
import type { UndiciResponseData } from './raw-response.js';
import { createDispatcher, headTimeout, WireRequest, warnIfInsecure } from './dispatcher.js';
import { mapUndiciError } from './map-error.js';
import { resolveUndiciOptions, type UndiciTransportOptions } from './options.js';

/** A transport on undici; `dispatcher` is the Agent (or the dispatcher passed in). */
export type UndiciTransport = Transport & {
  /** The undici `Agent` the transport created, or the dispatcher passed in. */
  readonly dispatcher: Dispatcher;
};

/** undici 7 encodes only its own FormData class (Node 20's global one comes from its bundled undici 6). */
const isUndiciForm = (form: FormData) => form instanceof UndiciFormData;

/**
 * The undici transport: sends each request with `request()` on a keep-alive undici `Agent` that it
 * owns and closes on `client.close()` (a `dispatcher` passed in is used and never closed). Redirects
 * come back to core, which follows them; `gzip`, `deflate` and `br` bodies are decoded and counted
 * against `maxResponseBytes`. An unread body (`readBody: false`) dropped with `discard()` is drained
 * when small and destroyed when large. The Agent is shared by every call of every client built on
 * this transport; reach it as `client.transport.dispatcher`.
 *
 * Options (all optional): `dispatcher`, `connections` (Infinity), `pipelining` (1),
 * `keepAliveTimeoutMs` (4000), `connectTimeoutMs` (10000), `headersTimeoutMs` (300000),
 * `bodyTimeoutMs` (300000), `maxResponseBytes` (Infinity), `proxy` ('env': HTTP_PROXY, HTTPS_PROXY,
 * NO_PROXY; the plain Agent when none is set), `proxyAuth`, `tls` (ca, cert, key, passphrase,
 * servername, rejectUnauthorized, minVersion), `allowH2` (false), `logger`. Invalid values throw
 * `ConfigError`. `res.raw` is undici's `ResponseData` plus `httpVersion` ('1.1' or '2').
 * @example
 * // Through a corporate proxy, to a partner that wants a client certificate, over HTTP/2 when offered:
 * undiciTransport({
 *   proxy: 'http://proxy.internal:3128',
 *   tls: { ca: partnerCa, cert: clientCert, key: clientKey },
 *   allowH2: true,
 * });
 * @example
 * import { createClient } from '@extapi/core';
 * import { undiciTransport } from '@extapi/backend-undici';
 *
 * const client = createClient([undiciTransport({ connections: 50, maxResponseBytes: 10 * 1024 * 1024 })], {
 *   baseUrl: 'https://api.partner.example/v1',
 * });
 * const res = await client.get('/items/42');
 * console.log(res.status, await res.json());
 * await client.close();
 */
export function undiciTransport(options?: UndiciTransportOptions): UndiciTransport {
  const resolved = resolveUndiciOptions(options);
  const owned = resolved.dispatcher === undefined;
  warnIfInsecure(resolved);
  const connections = owned ? createDispatcher(resolved) : undefined;
  const dispatcher: Dispatcher = resolved.dispatcher ?? connections!.dispatcher;
  // With a dispatcher passed in, the timeouts the user gave travel with each request instead.
  const givenTimeouts = (['headersTimeoutMs', 'bodyTimeoutMs'] as const).some(
    (name) => Object.hasOwn(options ?? {}, name) && options?.[name] !== undefined,
  );
  const perRequestTimeouts = !owned && givenTimeouts;
  // The head deadline is kept by the transport only when it knows its length (see onInfo).
  const headersTimeoutMs = owned || givenTimeouts ? resolved.headersTimeoutMs : 0;
  // ProxyAgent copies request headers with object spread, which sees nothing of a WHATWG Headers:
  // proxied (and foreign) dispatchers get a plain record. The plain Agent takes core's flat list,
  // which its request reads without an iterator, and most calls never build a Headers for.
  const proxied = resolved.proxy !== undefined;
  const plainHeaders = !owned || proxied;
  const wireHeaders = (headers: Headers) =>
    (plainHeaders
      ? Object.fromEntries(headers)
      : headerList(headers)) as unknown as Dispatcher.RequestOptions['headers'];
  // Calls whose response is not yet complete (head awaited, or a body still to read), so that
  // close() waits for them only, and for at most closeTimeoutMs.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  const mapError = (error: unknown, ctx: Context) => mapUndiciError(error, ctx, resolved);
  const call: CallSettings = {
    // undici does not decode: core's body policy does, and holds bodies to maxResponseBytes.
    policy: bodyPolicy<UndiciResponseData>({
      maxResponseBytes: resolved.maxResponseBytes,
      mapError,
    }),
    mapError,
    httpVersionOf: connections?.httpVersionOf,
    settle() {
      if (--inFlight === 0) onIdle?.();
    },
  };

  /**
   * Closes the owned dispatcher: calls in flight may finish for closeTimeoutMs, then the
   * connections are destroyed (a call waiting on a silent server would keep close() pending
   * forever). undici's Agent forgets its pools on close(), so a destroy() after it reaches none of
   * them: the transport waits first, then either closes or destroys.
   */
  function close(): Promise<void> {
    const idle =
      inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, resolved.closeTimeoutMs);
            onIdle = () => {
              clearTimeout(timer);
              resolve();
            };
          });
    return idle.then(() => (inFlight === 0 ? dispatcher.close() : dispatcher.destroy()));
  }

  /** undici's options for one request, but its body; throws for a request it must refuse. */
  function requestOptions(ctx: Context): WireRequest {
    // Read, never written here: a clone's headers are not copied for it.
    const headers = peekHeaders(ctx.request);
    if (proxied && headers.has('proxy-authorization')) {
      // A per-request value would reach a NO_PROXY target as it is: credentials go in the options.
      throw new ExtapiError(
        'Proxy-Authorization cannot be set per request; give the proxy credentials in the proxy URL or proxyAuth',
        'ERR_INVALID_REQUEST',
        { method: ctx.request.method, url: ctx.request.url, attempt: ctx.attempt },
      );
    }
    const request = new WireRequest(ctx, wireHeaders(headers));
    if (perRequestTimeouts) {
      request.headersTimeout = resolved.headersTimeoutMs;
      request.bodyTimeout = resolved.bodyTimeoutMs;
    }
    if (headersTimeoutMs > 0) {
      if (resolved.allowH2) {
        // HTTP/2 hides 1xx from the handler: the deadline runs from the start, on a child of the scope.
        request.headMs = headersTimeoutMs;
        request.h2Head = ctx.scope.child(headersTimeoutMs, () => headTimeout(request));
      } else request.watchHead(headersTimeoutMs);
    }
    return request;
  }

  /**
   * One call: the request on the wire through its handler (handler.ts), which settles the call's
   * promise from undici's callbacks with the response core's body policy makes. A call without a
   * body costs no async frame: as few promises and turns as undici's own dispatch().
   */
  function undici(ctx: Context): Promise<HttpResponse> {
    let request: WireRequest;
    try {
      request = requestOptions(ctx);
    } catch (error) {
      return Promise.reject(error);
    }
    return ctx.request.body === undefined ? send(ctx, request) : sendBody(ctx, request);
  }

  /** A request with a body: core's request body policy first (FormData encoded, upload progress). */
  async function sendBody(ctx: Context, request: WireRequest): Promise<HttpResponse> {
    const out = await outgoingBody(ctx, isUndiciForm);
    request.headers = wireHeaders(out.headers);
    const h2NoLength = resolved.allowH2 && !PAYLOAD_METHODS.has(ctx.request.method);
    request.body = undiciBody(out.body!, h2NoLength);
    return send(ctx, request);
  }

  function send(ctx: Context, request: WireRequest): Promise<HttpResponse> {
    inFlight++;
    const handler = new CallHandler(ctx, request, call);
    try {
      dispatcher.dispatch(request as unknown as Dispatcher.DispatchOptions, handler);
    } catch (error) {
      handler.onError(error as Error);
    }
    return handler.done;
  }

  return defineTransport(undici, {
    name: 'undici',
    close: owned ? close : () => Promise.resolve(),
    extra: { dispatcher },
  });
}

/** The methods undici's HTTP/2 client computes a content-length for. */
const PAYLOAD_METHODS = new Set(['PUT', 'POST', 'PATCH']);

/**
 * The body in a form undici sends as it is: only an ArrayBuffer is wrapped. With `h2NoLength`,
 * bytes go as an iterable: undici 7's HTTP/2 client asserts that a buffer or Blob body has a
 * content-length, yet computes none for methods other than PUT, POST and PATCH (a DELETE with a body fails).
 */
function undiciBody(body: RequestBody, h2NoLength: boolean): Dispatcher.RequestOptions['body'] {
  const out = (body instanceof ArrayBuffer ? Buffer.from(body) : body) as Exclude<
    RequestBody,
    ArrayBuffer
  >;
  if (!h2NoLength) return out as Dispatcher.RequestOptions['body'];
  if (typeof out === 'string') return [Buffer.from(out)] as unknown as Readable;
  if (out instanceof Uint8Array) return [out] as unknown as Readable;
  if (out instanceof Blob) return out.stream() as unknown as Dispatcher.RequestOptions['body'];
  return out as Dispatcher.RequestOptions['body'];
}
