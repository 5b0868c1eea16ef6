// The request body policy, one for every transport: FormData a sender cannot encode, and upload
// progress, which needs to see each chunk go out. A transport then only adapts the body to its wire API.
import { bodyLength, isWebStream, utf8, webChunks } from './body.js';
import { withProgress } from './progress.js';
import type { Context, HttpRequest, RequestBody } from './types.js';

/**
 * The headers and body a transport sends for one request (see {@link outgoingBody}).
 * @example
 * const { headers, body }: OutgoingBody = await outgoingBody(ctx, () => true);
 */
export interface OutgoingBody {
  /** The request's headers, or a copy with `content-type` or `content-length` set. */
  readonly headers: Headers;
  /** The body to send: the request's own, encoded FormData bytes, or an async iterable reporting progress. */
  readonly body: RequestBody | undefined;
}

/**
 * Whether a body is read as a stream (a Node `Readable`, a web `ReadableStream`, an async iterable).
 * @example
 * if (isStreamBody(body)) init.duplex = 'half';
 */
export function isStreamBody(
  body: RequestBody | undefined,
): body is ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> {
  return (
    typeof body === 'object' &&
    (isWebStream(body) ||
      typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function')
  );
}

/** A FormData encoded for the wire: see {@link encodeFormData}. */
export interface EncodedForm {
  /** A copy of the request headers with the multipart `content-type` (boundary included). */
  headers: Headers;
  /** The encoded body. */
  body: Uint8Array;
}

/**
 * `form` as bytes, with its multipart `content-type` (boundary included) set on a copy of `headers`
 * unless one is set already: for a sender that does not know the global FormData class (undici 7
 * on Node 20, a foreign fetch), which would send it as the text "[object FormData]".
 * @example
 * const { headers, body } = await encodeFormData(form, request.headers);
 */
export async function encodeFormData(form: FormData, headers: Headers): Promise<EncodedForm> {
  const encoded = new Response(form);
  const out = new Headers(headers);
  if (!out.has('content-type')) out.set('content-type', encoded.headers.get('content-type')!);
  return { headers: out, body: new Uint8Array(await encoded.arrayBuffer()) };
}

/** The chunks of a body, for a sender that must see each one go out. */
function chunksOf(body: RequestBody): Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
  if (typeof body === 'string') return [utf8(body)];
  if (body instanceof Uint8Array) return [body];
  if (body instanceof ArrayBuffer) return [new Uint8Array(body)];
  const stream = body instanceof Blob ? body.stream() : body;
  if (isStreamBody(stream)) {
    // Node's web streams are async iterables already; Safari's are not.
    return Symbol.asyncIterator in stream ? stream : webChunks(stream);
  }
  return [utf8(String(body))];
}

/** `request` with its body reporting to `onProgress` as it is pulled, its known length kept. */
function withUploadProgress(
  request: OutgoingBody,
  onProgress: NonNullable<Context['onUploadProgress']>,
): OutgoingBody {
  const { body } = request;
  // FormData is encoded by the sender itself, out of sight: it reports nothing.
  if (body === undefined || body === null || body instanceof FormData) return request;
  const total = bodyLength(body);
  let headers = request.headers;
  if (total !== undefined) {
    // The body goes out as a stream now; its known length keeps the request as it was (not chunked).
    headers = new Headers(headers);
    headers.set('content-length', String(total));
  }
  return { headers, body: withProgress(chunksOf(body), total, onProgress) };
}

/**
 * The headers and body a transport sends for `ctx.request`: a `FormData` that `nativeForm` says
 * the sender cannot take is encoded to bytes (see {@link encodeFormData}), and with
 * `ctx.onUploadProgress` the body becomes an async iterable that reports each chunk (at most every
 * 50 ms, once at the end), with `content-length` set when the length is known. Otherwise the
 * request's own headers and body come back as they are, at no cost.
 * @example
 * const out = await outgoingBody(ctx, (form) => form instanceof UndiciFormData);
 * request.headers = out.headers;
 * request.body = out.body;
 */
export function outgoingBody(
  ctx: Context,
  nativeForm: (form: FormData) => boolean,
): OutgoingBody | Promise<OutgoingBody> {
  const request: HttpRequest = ctx.request;
  const onProgress = ctx.onUploadProgress;
  if (request.body instanceof FormData && !nativeForm(request.body)) {
    const encoded = encodeFormData(request.body, request.headers);
    return onProgress ? encoded.then((out) => withUploadProgress(out, onProgress)) : encoded;
  }
  return onProgress ? withUploadProgress(request, onProgress) : request;
}
