// One call's handler on undici's dispatch API: what undici's request() does, without the parts a
// call through core does not use. request() wraps every response in a stream (a Readable, an
// AsyncResource, a promise and a signal listener); most calls read a small body whole, so this
// collects such a body itself and streams only the others.
import { Readable } from 'node:stream';
import {
  type AbortScope,
  type BodyPolicy,
  type Context,
  type HeaderRecord,
  type HeaderSource,
  recordHeaders,
  type WireResponse,
} from '@extapi/core';
import { errors, util } from 'undici';
import { headTimeout, type WireRequest } from './dispatcher.js';

/**
 * `res.raw` of a response from the undici transport: the fields of undici's own `ResponseData`,
 * plus `httpVersion`, the protocol the response came over (`'1.1'` or `'2'`). `body` is the
 * stream a streamed response came in, and `null` when the transport read the body whole (read it
 * through the response). `httpVersion` is absent when the transport cannot know it: a
 * `dispatcher` passed in, or `allowH2` through a proxy.
 * @example
 * const res = await client.get('/');
 * console.log((res.raw as UndiciResponseData).httpVersion); // '2' with allowH2 on an h2 server
 */
export interface UndiciResponseData {
  /** The HTTP status code. */
  statusCode: number;
  /** The reason phrase the server sent (HTTP/1.1 only). */
  statusText: string;
  /** The response headers, names in lower case, repeated ones as an array. */
  headers: HeaderRecord;
  /** The trailers, filled in once the body has been read. */
  trailers: Record<string, string | string[]>;
  /** Always `null`: nothing of the request is kept on its response. */
  opaque: null;
  /** undici's per-request context (the retry handler's state, for one). */
  context: object | undefined;
  /** The stream of a streamed body; `null` when the transport read the body whole. */
  body: Readable | null;
  /** The protocol the response came over; absent when the transport cannot know it. */
  httpVersion?: '1.1' | '2';
}

/** What undici hands a handler when the connection is ready: the function that aborts the request. */
type Abort = (reason: Error) => void;

/**
 * One call on undici's dispatcher: `done` settles with the response's head when its body is to be
 * streamed, with the whole body when the body policy reads it whole anyway, or with the error
 * undici failed with (mapped by the transport). It follows the call's scope instead of a signal.
 */
export class CallHandler {
  /** The wire response, or undici's error. */
  readonly done: Promise<WireResponse<UndiciResponseData>>;
  #resolve!: (wire: WireResponse<UndiciResponseData>) => void;
  #reject!: (error: unknown) => void;
  readonly #request: WireRequest;
  readonly #ctx: Context;
  /** The scope the request follows: the call's, or on HTTP/2 its head deadline's child. */
  readonly #scope: AbortScope;
  readonly #respond: BodyPolicy<UndiciResponseData>;
  #abort: Abort | null = null;
  #unlisten: (() => void) | undefined;
  #wire: WireResponse<UndiciResponseData> | undefined;
  /** The chunks of a body read whole, or `undefined` while streaming (or before the head). */
  #chunks: Buffer[] | undefined;
  #size = 0;
  #stream: WireBody | undefined;

  constructor(ctx: Context, request: WireRequest, respond: BodyPolicy<UndiciResponseData>) {
    this.#ctx = ctx;
    this.#request = request;
    this.#respond = respond;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The head deadline of HTTP/2 is a child of the call's scope (see transport.ts).
    const scope = request.h2Head ?? ctx.scope;
    this.#scope = scope;
    if (scope.canAbort) this.#unlisten = scope.onAbort((reason) => this.#onAbort(reason));
  }

  /** The stream of a streamed body, once the head has come. */
  get stream(): Readable | undefined {
    return this.#stream;
  }

  #onAbort(reason: unknown): void {
    const error = abortError(reason);
    if (this.#stream) this.#stream.destroy(error);
    else this.#abort?.(error);
  }

  #stopListening(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
  }

  /** undici: the request is on its way; `abort` cancels it. */
  onConnect(abort: Abort): void {
    if (this.#scope.aborted) {
      abort(abortError(this.#scope.reason));
      return;
    }
    this.#abort = abort;
  }

  /**
   * undici: a head has come. A 1xx arms the head deadline for what is left of it (undici's own
   * headers timer restarts on every 1xx, so a server dripping `102 Processing` would hold the call
   * forever); a call without a 1xx (nearly all) costs no timer.
   */
  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    const request = this.#request;
    if (statusCode < 200) {
      if (request.headMs > 0 && request.headTimer === undefined && this.#abort) {
        const abort = this.#abort;
        const left = request.headMs - (performance.now() - request.started);
        request.headTimer = setTimeout(() => abort(headTimeout(request)), Math.max(0, left));
      }
      return true;
    }
    if (request.headTimer !== undefined) clearTimeout(request.headTimer);
    const raw = new RawResponse(statusCode, statusText, rawHeaders);
    const wire: WireResponse<UndiciResponseData> = {
      status: statusCode,
      statusText,
      // Built on first access: most calls never look at the response headers.
      headers: () => recordHeaders(raw),
      contentLength: undefined,
      contentEncoding: undefined,
      location: undefined,
      body: null,
      raw,
      wireLengthChecked: false,
    };
    readPolicyHeaders(raw, wire);
    this.#wire = wire;
    if (this.#respond.readsWhole(this.#ctx, wire)) {
      this.#chunks = [];
      return true;
    }
    const stream = new WireBody(resume, this.#abort);
    this.#stream = stream;
    wire.body = raw.body = stream;
    // The scope's listener goes when the stream does: until then an abort destroys it.
    if (this.#unlisten) stream.once('close', () => this.#stopListening());
    this.#resolve(wire);
    return true;
  }

  /** undici: a piece of the body; `false` asks it to pause until the stream is read. */
  onData(chunk: Buffer): boolean {
    const chunks = this.#chunks;
    if (chunks === undefined) return this.#stream!.push(chunk);
    chunks.push(chunk);
    this.#size += chunk.length;
    return true;
  }

  /** undici: the body has ended. */
  onComplete(trailers: Buffer[] | string[] | null): void {
    const wire = this.#wire!;
    if (trailers) util.parseHeaders(trailers as Buffer[], wire.raw.trailers);
    const chunks = this.#chunks;
    if (chunks === undefined) {
      this.#stream!.push(null);
      return;
    }
    this.#stopListening();
    // One chunk is copied, as undici's own bytes() does: it may be a view of a larger buffer.
    wire.body =
      chunks.length === 1 ? new Uint8Array(chunks[0]!) : Buffer.concat(chunks, this.#size);
    this.#resolve(wire);
  }

  /** undici: the request failed (before the head, or while the body came). */
  onError(error: Error): void {
    this.#stopListening();
    if (this.#request.headTimer !== undefined) clearTimeout(this.#request.headTimer);
    const body = this.#request.body;
    if (body instanceof Readable) body.on('error', noop).destroy(error);
    const stream = this.#stream;
    if (stream === undefined) this.#reject(error);
    // After the current undici callbacks, as undici's request() does: a reader may be mid-chunk.
    else queueMicrotask(() => stream.destroy(error));
  }
}

/**
 * `res.raw`: parses the response headers into undici's record on first access (most calls never
 * look), and, as the {@link HeaderSource} of `res.headers`, answers `get` for one name straight off
 * the raw head (a middleware asking for a header the response lacks parses nothing).
 */
class RawResponse implements UndiciResponseData, HeaderSource {
  readonly statusCode: number;
  readonly statusText: string;
  trailers: Record<string, string | string[]> = {};
  readonly opaque = null;
  readonly context = undefined;
  body: Readable | null = null;
  httpVersion?: '1.1' | '2';
  #rawHeaders: Buffer[];
  #headers: HeaderRecord | undefined;

  constructor(statusCode: number, statusText: string, rawHeaders: Buffer[]) {
    this.statusCode = statusCode;
    this.statusText = statusText;
    this.#rawHeaders = rawHeaders;
  }

  get headers(): HeaderRecord {
    if (this.#headers === undefined) {
      this.#headers = util.parseHeaders(this.#rawHeaders) as HeaderRecord;
      this.#rawHeaders = []; // views of a socket read: not kept past their use
    }
    return this.#headers;
  }

  /** HeaderSource: one header by its lowercase name, as undici's record would give it. */
  get(lowerName: string): string | string[] | undefined {
    if (this.#headers !== undefined) return this.#headers[lowerName];
    return rawHeader(this.#rawHeaders, lowerName);
  }

  /** HeaderSource: every header. */
  all(): HeaderRecord {
    return this.headers;
  }
}

/**
 * The value of the header `lowerName` in undici's raw head (values as latin1, a repeated header as
 * an array, as undici's own parser gives them), looking only at names of its length.
 */
function rawHeader(rawHeaders: Buffer[], lowerName: string): string | string[] | undefined {
  let found: string | string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== lowerName.length) continue;
    if (util.headerNameToString(rawHeaders[i]!) !== lowerName) continue;
    const value = rawHeaders[i + 1]!.toString('latin1');
    found = found === undefined ? value : [...(typeof found === 'string' ? [found] : found), value];
  }
  return found;
}

/** Sets the three headers the body policy needs at once from undici's raw head. */
function readPolicyHeaders(raw: RawResponse, wire: WireResponse<UndiciResponseData>): void {
  wire.contentLength = raw.get('content-length');
  wire.contentEncoding = raw.get('content-encoding');
  wire.location = raw.get('location');
}

const noop = () => {};

/** undici aborts with an Error: a scope's reason as it is, anything else as undici's own. */
function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new errors.RequestAbortedError();
}

/**
 * The stream of a streamed body: reading resumes undici, a full buffer pauses it (onData's `false`),
 * and destroying it before its end aborts the request, so the connection is not reused mid-body.
 */
class WireBody extends Readable {
  readonly #abort: Abort | null;

  constructor(resume: () => void, abort: Abort | null) {
    super({ autoDestroy: true, read: resume, highWaterMark: 64 * 1024 });
    this.#abort = abort;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.readableEnded) this.#abort?.(error ?? new errors.RequestAbortedError());
    callback(error);
  }
}
