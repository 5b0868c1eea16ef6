// fetchTransport(): the terminal of a stack on globalThis.fetch, or on any fetch you pass. Wire I/O
// only: core follows redirects (fetch is called with redirect: 'manual') and its body policy handles bodies.
import {
  type AbortScope,
  bodyPolicy,
  type Context,
  defineTransport,
  ExtapiError,
  type HttpResponse,
  isStreamBody,
  NEVER_ABORT,
  type OutgoingBody,
  outgoingBody,
  peekHeaders,
  requestUrl,
  TimeoutError,
  type Transport,
} from '@extapi/core';
import { mapFetchError } from './map-error.js';
import { bytesOf, connectionReleased, reasonPhrase } from './platform.js';
import {
  type FetchFunction,
  type FetchResponse,
  type FetchTransportOptions,
  resolveFetchTransportOptions,
} from './options.js';

/**
 * A transport on fetch; `fetch` is the function in use (`client.transport.fetch`).
 * @example
 * const inUse = (client.transport as FetchTransport).fetch;
 */
export type FetchTransport = Transport & {
  /** The fetch function the transport calls. */
  readonly fetch: FetchFunction;
};

/** A web ReadableStream for fetch: Node streams and async iterables are adapted, web streams pass. */
function toWebStream(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  failure: BodyFailure,
): ReadableStream<Uint8Array> {
  if (typeof (body as ReadableStream).getReader === 'function') {
    return body as ReadableStream<Uint8Array>;
  }
  // ReadableStream.from (Node >= 20.6) cancels by calling the iterator's return(), which destroys a Readable.
  return (
    ReadableStream as unknown as {
      from(iterable: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array>;
    }
  ).from(recordFailure(body as AsyncIterable<Uint8Array>, failure));
}

/** Where a request body's own error is kept: fetch reports it as a bare `fetch failed`. */
interface BodyFailure {
  error?: unknown;
}

/** Passes `source` through, keeping the error it fails with (a lying content-length, a broken stream). */
async function* recordFailure(
  source: AsyncIterable<Uint8Array>,
  failure: BodyFailure,
): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    failure.error = error;
    throw error;
  }
}

/** The RequestInit of one call: `init` underneath, then what the transport owns. */
function requestInit(
  init: Record<string, unknown>,
  method: string,
  { headers, body }: OutgoingBody,
  signal: AbortSignal,
  failure: BodyFailure,
): RequestInit {
  // No prototype: fetch reads RequestInit members through the prototype chain (WebIDL dictionaries
  // do), so a polluted Object.prototype.body or .dispatcher would otherwise reach every request.
  const out: RequestInit & Record<string, unknown> = Object.assign(Object.create(null), {
    ...init,
    method,
    headers,
    // A signal that can never abort is not worth fetch's listener bookkeeping.
    signal: signal === NEVER_ABORT ? undefined : signal,
    // core follows redirects (one policy for every transport); fetch hands back the 3xx as it is.
    redirect: 'manual',
  });
  if (body === undefined || body === null) return out;
  if (isStreamBody(body)) {
    out.body = toWebStream(body, failure);
    // Required by fetch for a stream body: the request is sent while the response may already arrive.
    out.duplex = 'half';
  } else {
    out.body = body as BodyInit;
  }
  return out;
}

/** fetch hands over a web stream; reading the Response whole is its fast path. */
const readAll = async (wire: { raw: FetchResponse }) => bytesOf(await wire.raw.arrayBuffer());

/**
 * A transport on `fetch`: `globalThis.fetch` by default, or the `fetch` you pass (undici's with a
 * `ProxyAgent` dispatcher, an instrumented one…). Redirects are followed by `createClient`, never by fetch.
 * fetch decodes gzip/deflate/br itself; core's body policy still refuses more than 5 stacked codings,
 * counts decoded bytes against `maxResponseBytes`, and drains a small unread body that is discarded
 * (so its connection is reused) and cancels a large or stalled one.
 * Options: `fetch` (default `globalThis.fetch`), `maxResponseBytes` (default 32 MiB for a body read
 * whole, none for a stream), `headersTimeoutMs` (300000), `init` (default `{}`).
 * @example
 * import { createClient } from '@extapi/core';
 * import { fetchTransport } from '@extapi/backend-fetch';
 *
 * const client = createClient([fetchTransport({ maxResponseBytes: 10 * 1024 * 1024 })], {
 *   baseUrl: 'https://api.partner.example/v1',
 * });
 * const res = await client.get('/items/42');
 * console.log(res.status, await res.json(), client.transport.fetch === globalThis.fetch);
 */
export function fetchTransport(options?: FetchTransportOptions): FetchTransport {
  const { fetch, maxResponseBytes, headersTimeoutMs, init } = resolveFetchTransportOptions(options);
  // The global fetch encodes the global FormData itself; another fetch may not know that class.
  const foreignFetch = fetch !== globalThis.fetch;
  const nativeForm = () => !foreignFetch;
  // fetch decodes the body itself: core's body policy still limits, reports and releases it.
  const respond = bodyPolicy<FetchResponse>({
    maxResponseBytes,
    decoded: true,
    mapError: mapFetchError,
    readAll,
    afterBody: connectionReleased,
  });

  /**
   * The head deadline of one call (fetch's own restarts on every 1xx, this one does not): a child
   * of the call's scope, on the call's one timer; its signal is the one AbortController fetch needs.
   * It stops at the head and keeps following the call's scope, so a caller's abort still reaches a
   * body streamed after it.
   */
  function headDeadline(ctx: Context): AbortScope {
    if (headersTimeoutMs <= 0) return ctx.scope;
    const { method, url } = ctx.request;
    return ctx.scope.child(
      headersTimeoutMs,
      () =>
        new TimeoutError(headersTimeoutMs, { method, url, attempt: ctx.attempt, phase: 'headers' }),
    );
  }

  /**
   * One call: fetch with the head deadline, the response through core's body policy. One async
   * function for both, so that a call costs no more frames and microtask turns than fetch's own.
   */
  async function fetchRequest(ctx: Context): Promise<HttpResponse> {
    const { method, body } = ctx.request;
    // fetch reports a request body's own error as a bare `fetch failed`: the body keeps it here.
    const failure: BodyFailure = {};
    let head = ctx.scope;
    let res: FetchResponse;
    try {
      // core's request body policy: FormData encoded for a foreign fetch, upload progress reported.
      // Without a body the headers are only read: a clone's are not copied for it.
      const out =
        body === undefined
          ? { headers: peekHeaders(ctx.request), body }
          : await outgoingBody(ctx, nativeForm);
      head = headDeadline(ctx);
      res = await fetch(
        requestUrl(ctx.request).href,
        requestInit(init, method, out, head.signal, failure),
      );
    } catch (error) {
      throw mapFetchError(failure.error ?? error, ctx);
    } finally {
      if (head !== ctx.scope) head.stop();
    }
    // A browser answers redirect: 'manual' with a status-0 response that hides the Location: core
    // cannot follow it under its credential rules, and a status 0 would pass for an answer.
    if (res.type === 'opaqueredirect') throw hiddenRedirect(ctx);
    // fetch's own Headers are immutable: a copy (which keeps each set-cookie apart) is made the
    // first time a middleware or the caller asks for the headers, which most calls never do.
    const given = res.headers as FetchResponse['headers'] & { get?: unknown };
    // A fetch of another kind may give plain [name, value] pairs: those are copied at once.
    const lookup =
      typeof given.get === 'function' ? (given as Headers) : new Headers(given as HeadersInit);
    const status = res.status;
    // Awaited: returning the promise itself costs the async function one more microtask turn.
    return await respond(ctx, {
      status,
      // HTTP/2 has no reason phrase: the standard one, as the undici transport gives.
      statusText: res.statusText || reasonPhrase(status),
      headers: lookup === given ? () => new Headers(lookup) : lookup,
      contentLength: lookup.get('content-length'),
      contentEncoding: lookup.get('content-encoding'),
      location: lookup.get('location'),
      body: res.body as ReadableStream<Uint8Array> | null,
      raw: res,
    });
  }

  return defineTransport<{ fetch: FetchFunction }>(fetchRequest, {
    name: 'fetch',
    extra: { fetch },
  });
}

/** The error of a redirect the runtime's fetch hid from the transport (browsers do). */
function hiddenRedirect(ctx: Context): ExtapiError {
  const { method, url } = ctx.request;
  return new ExtapiError(
    'The server answered with a redirect that this runtime hides from scripts (a browser gives no Location for redirect: "manual"), so it cannot be followed; call the URL it leads to',
    'ERR_REDIRECT_HIDDEN',
    { method, url, attempt: ctx.attempt },
  );
}
