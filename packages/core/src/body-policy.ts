// The response body policy, one for every transport: a transport hands over what came off the wire
// (status, headers, a raw body); this buffers or streams it, decodes, limits, reports and releases it.
import {
  type BodyLimitOptions,
  contentCodings,
  isWebStream,
  type RawBody,
  lengthMismatch,
  readBody,
  responseLimit,
} from './body.js';
import { requestUrl } from './context.js';
import { ExtapiError, ResponseTooLargeError } from './errors.js';
import { isExtapiError } from './error-guards.js';
import { platformStreams } from './platform-streams.js';
import { isDiscardedRedirect } from './redirect.js';
import { createResponse, type ResponseInit } from './response.js';
import type { Context, HttpResponse } from './types.js';
import type {
  BodyPolicy,
  BodyPolicyOptions,
  BodyStreams,
  WireHead,
  WireHeader,
  WireResponse,
} from './wire.js';

const noop = () => {};

/** Lets go of a raw body that will never be read (its connection goes with it). */
function destroy(body: RawBody): void {
  if (isWebStream(body)) body.cancel().catch(noop);
  else body.on('error', noop).destroy();
}

/** Settles a body the protocol says is empty (HEAD, 204, 304) without costing its connection. */
function release(body: RawBody): void {
  if (isWebStream(body)) body.cancel().catch(noop);
  else body.on('error', noop).resume();
}

function headerText(value: WireHeader): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : value.join(', ');
}

function wireLength(value: WireHeader): number | undefined {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
}

function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || status < 200;
}

/**
 * The body policy of a transport: the function it hands each response to. It answers HEAD, 204
 * and 304 without a body; releases the body of a redirect the client follows as it is (never decoded,
 * limited or reported); refuses more than 5 stacked codings; reads the body whole (`ctx.readBody`)
 * or wraps it as a stream; decodes gzip, deflate and br unless `decoded`; holds decoded bytes to
 * `responseLimit(ctx, maxResponseBytes)` (refusing a known-too-large body unread); reports
 * `ctx.onDownloadProgress`; fails a body cut before its `content-length`; and on `discard()` drains a
 * small unread body and destroys a large or stalled one. Backend errors go through `mapError`.
 * @example
 * const respond = bodyPolicy({ maxResponseBytes, mapError: (error, ctx) => mapMyError(error, ctx) });
 * return respond(ctx, { status, statusText, headers, contentLength, contentEncoding, location, body, raw });
 */
export function bodyPolicy<Raw>(
  options: BodyPolicyOptions<Raw>,
  streams: BodyStreams<RawBody> = platformStreams,
): BodyPolicy<Raw> {
  const { maxResponseBytes, decoded = false, mapError, readAll, afterBody } = options;

  /** The decoded size a whole body must have: content-length, unless the body was decoded. */
  const wholeSize = (wire: WireHead) =>
    decoded && headerText(wire.contentEncoding) ? undefined : wireLength(wire.contentLength);

  function readsWhole(ctx: Context, head: WireHead): boolean {
    if (!ctx.readBody || ctx.onDownloadProgress) return false;
    const { status } = head;
    if (hasNoBody(ctx.request.method, status)) return false;
    if (isDiscardedRedirect(ctx, status, headerText(head.location))) return false;
    if (!decoded && !noCodings(headerText(head.contentEncoding))) return false;
    const maxBytes = responseLimit(ctx, maxResponseBytes);
    if (maxBytes === undefined) return true;
    const size = wholeSize(head);
    return size !== undefined && size <= maxBytes;
  }

  /** The response of a body read whole: held to its content-length (an HTTP/2 reset ends it silently). */
  function collected(ctx: Context, wire: WireResponse<Raw>): HttpResponse {
    const bytes = wire.body as Uint8Array;
    const size = wholeSize(wire);
    if (size !== undefined && bytes.byteLength !== size) {
      const { method, url } = ctx.request;
      throw lengthMismatch(size, bytes.byteLength, { method, url, attempt: ctx.attempt });
    }
    return createResponse(responseInit(ctx, wire, bytes));
  }

  async function whole(ctx: Context, wire: WireResponse<Raw>): Promise<HttpResponse> {
    const response = collected(ctx, wire);
    if (afterBody) await afterBody();
    return response;
  }

  async function respond(ctx: Context, wire: WireResponse<Raw>): Promise<HttpResponse> {
    const { status, body } = wire;
    // Collected whole by the transport (readsWhole), or to be read whole here: the fast path.
    if (body instanceof Uint8Array) return whole(ctx, wire);
    if (body !== null && readsWhole(ctx, wire)) {
      try {
        wire.body = readAll
          ? await readAll(wire)
          : await readBody(body as AsyncIterable<Uint8Array>);
      } catch (error) {
        throw mapError(error, ctx);
      }
      return whole(ctx, wire);
    }
    const { method } = ctx.request;
    const init = responseInit(ctx, wire, null);
    const url = init.url;
    if (body === null || hasNoBody(method, status)) {
      if (body !== null) release(body);
      if (afterBody) await afterBody();
      return createResponse(init);
    }
    const length = wireLength(wire.contentLength);
    if (isDiscardedRedirect(ctx, status, headerText(wire.location))) {
      // The redirect step throws this body away: released as it is, never decoded, limited or reported.
      init.body = streams.unhandled(streams.from(body, (error) => mapError(error, ctx)));
      init.discard = (unread) => streams.discard(unread, length);
      return createResponse(init);
    }
    const encoding = headerText(wire.contentEncoding);
    let codings: string[] | undefined;
    try {
      codings = contentCodings(encoding);
    } catch (error) {
      destroy(body);
      throw withRequest(error, ctx);
    }
    const decode = decoded ? undefined : codings;
    // content-length is the wire size: it is the decoded size only when nothing was or is decoded.
    const size = (decoded ? encoding !== null && encoding !== '' : codings) ? undefined : length;
    const maxBytes = responseLimit(ctx, maxResponseBytes);
    const onProgress = ctx.onDownloadProgress;

    if (maxBytes !== undefined && size !== undefined && size > maxBytes) {
      // Known too large before a byte of it is read: do not download it.
      destroy(body);
      throw new ResponseTooLargeError(maxBytes, { method, url, attempt: ctx.attempt });
    }
    const map = (error: unknown) => mapError(error, ctx);
    let source: RawBody = body;
    if (decode) {
      source = streams.from(body, map);
      if (length !== undefined && !wire.wireLengthChecked) {
        // Over HTTP/2 (or an unknown protocol) the backend does not hold an encoded body to its length.
        source = streams.limit(source, {
          expectedBytes: length,
          mapError: map,
          method,
          url,
        });
      }
      source = streams.decode(source, decode);
    }
    const limits: BodyLimitOptions = {
      maxBytes,
      totalBytes: size,
      expectedBytes: size,
      onProgress,
      // An undecoded web body's errors are mapped as it is adapted (streams.from); others' here.
      mapError: source === body && isWebStream(body) ? undefined : map,
      method,
      url,
    };
    if (ctx.readBody) {
      try {
        init.body = await readBody(source as AsyncIterable<Uint8Array>, limits);
      } catch (error) {
        destroy(body);
        throw map(error);
      }
      if (afterBody) await afterBody();
      return createResponse(init);
    }
    // Always through the limiter (mapError), so that a body failing while it is read (a reset,
    // corrupt gzip) rejects with extapi's errors, never with the backend's own.
    // A body nobody reads may still fail (reset, abort); that must never be an unhandled 'error'.
    init.body = streams.unhandled(streams.limit(streams.from(source, map), limits));
    init.discard = (unread) => streams.discard(unread, length);
    return createResponse(init);
  }

  return Object.assign(respond, { readsWhole, collected });
}

/** The fields of a response to `ctx` from `wire`, with `body`. */
function responseInit<Raw>(
  ctx: Context,
  wire: WireResponse<Raw>,
  body: Uint8Array | null,
): ResponseInit {
  return {
    status: wire.status,
    statusText: wire.statusText,
    headers: wire.headers,
    url: requestUrl(ctx.request).href,
    method: ctx.request.method,
    raw: wire.raw,
    body,
  };
}

/** Whether a content-encoding leaves nothing to decode (none, identity, or a coding passed on as it is). */
function noCodings(encoding: string | null): boolean {
  try {
    return contentCodings(encoding) === undefined;
  } catch {
    return false; // too many codings: the policy refuses the body on its slow path
  }
}

/** core's contentCodings() throws without knowing the request; the caller needs method and URL. */
function withRequest(error: unknown, ctx: Context): unknown {
  if (!isExtapiError(error) || error.url !== undefined) return error;
  return new ExtapiError(error.message, error.code, {
    method: ctx.request.method,
    url: ctx.request.url,
    attempt: ctx.attempt,
    cause: error,
  });
}
