// One call's handler on undici's dispatch API: what undici's request() does, without the parts a
// call through core does not use. request() wraps every response in a stream (a Readable, an
// AsyncResource, a promise and a signal listener); most calls read a small body whole, so this
// collects such a body itself and streams only the others.
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import type {
  AbortFollower,
  AbortScope,
  BodyPolicy,
  Context,
  HttpResponse,
  WireResponse,
} from '@extapi/core';
import { errors, util } from 'undici';
import { headTimeout, type WireRequest } from './dispatcher.js';
import { RawResponse, readPolicyHeaders, type UndiciResponseData } from './raw-response.js';

/** What undici hands a handler when the connection is ready: the function that aborts the request. */
type Abort = (reason: Error) => void;

/** What every call of one transport shares: made once by the transport, read by each handler. */
export interface CallSettings {
  /** core's body policy, which turns what came off the wire into the response. */
  readonly policy: BodyPolicy<UndiciResponseData>;
  /** undici's error as the caller sees it (see map-error.ts). */
  mapError(error: unknown, ctx: Context): unknown;
  /** The protocol a response from `origin` came over, when the transport can know it. */
  readonly httpVersionOf: ((origin: string) => '1.1' | '2') | undefined;
  /** Called once per call, when its response is complete (or failed): close() waits for these. */
  settle(): void;
}

/**
 * One call on undici's dispatcher: `done` settles with the call's response, made by core's body
 * policy from the head (a streamed body) or from the whole body (one the policy reads whole
 * anyway), or with undici's error as the caller sees it. It follows the call's scope instead of
 * a signal, and settles from undici's callbacks: no async frame, no extra turn per call.
 */
export class CallHandler implements AbortFollower {
  /** The response, or the mapped error. */
  readonly done: Promise<HttpResponse>;
  #resolve!: (response: HttpResponse | Promise<HttpResponse>) => void;
  #reject!: (error: unknown) => void;
  readonly #request: WireRequest;
  readonly #ctx: Context;
  /** The scope the request follows: the call's, or on HTTP/2 its head deadline's child. */
  readonly #scope: AbortScope;
  readonly #call: CallSettings;
  #abort: Abort | null = null;
  /** Whether the handler follows its scope (attached to it), until the response is complete. */
  #following = false;
  #wire: WireResponse<UndiciResponseData> | undefined;
  /** Whether the body is collected here (read whole) rather than streamed. */
  #whole = false;
  /** The first chunk of a body read whole, and every chunk once there is a second (rare). */
  #first: Buffer | undefined;
  #chunks: Buffer[] | undefined;
  #size = 0;
  #stream: WireBody | undefined;

  constructor(ctx: Context, request: WireRequest, call: CallSettings) {
    this.#ctx = ctx;
    this.#request = request;
    this.#call = call;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The head deadline of HTTP/2 is a child of the call's scope (see transport.ts).
    const scope = request.h2Head ?? ctx.scope;
    this.#scope = scope;
    // The handler is its own abort listener: no closure, no function to remove it, per call.
    if (scope.canAbort) {
      scope.attach(this);
      this.#following = true;
    }
  }

  /** The stream of a streamed body, once the head has come. */
  get stream(): Readable | undefined {
    return this.#stream;
  }

  /** The scope aborted (see `AbortScope#attach`): the request or its streamed body goes. */
  abort(reason: unknown): void {
    const error = abortError(reason);
    if (this.#stream) this.#stream.destroy(error);
    else this.#abort?.(error);
  }

  /** The response is complete (or failed): the scope's listener goes, close() stops waiting. */
  #finish(): void {
    if (this.#following) {
      this.#following = false;
      this.#scope.detach(this);
    }
    this.#call.settle();
  }

  /** The head deadlines are met once a final head came or the request failed. */
  #headDone(): void {
    const request = this.#request;
    if (request.headTimer !== undefined) clearTimeout(request.headTimer);
    request.h2Head?.stop();
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
    this.#headDone();
    const raw = new RawResponse(statusCode, statusText, rawHeaders);
    const { httpVersionOf, policy } = this.#call;
    if (httpVersionOf) raw.httpVersion = httpVersionOf(request.origin);
    const wire: WireResponse<UndiciResponseData> = {
      status: statusCode,
      statusText: statusText || STATUS_CODES[statusCode] || '',
      // Read off the raw head when asked for: most calls never look at the response headers.
      headers: raw,
      contentLength: undefined,
      contentEncoding: undefined,
      location: undefined,
      body: null,
      raw,
      // undici holds an HTTP/1.1 body to its content-length itself, encoded or not.
      wireLengthChecked: raw.httpVersion === '1.1',
    };
    readPolicyHeaders(rawHeaders, wire);
    this.#wire = wire;
    if (policy.readsWhole(this.#ctx, wire)) {
      this.#whole = true;
      return true;
    }
    const stream = new WireBody(resume, this.#abort);
    this.#stream = stream;
    wire.body = raw.body = stream;
    // Until the stream closes an abort destroys it, and the call counts as in flight.
    stream.once('close', () => this.#finish());
    this.#resolve(policy(this.#ctx, wire));
    return true;
  }

  /** undici: a piece of the body; `false` asks it to pause until the stream is read. */
  onData(chunk: Buffer): boolean {
    if (!this.#whole) return this.#stream!.push(chunk);
    if (this.#first === undefined) this.#first = chunk;
    else {
      this.#chunks ??= [this.#first];
      this.#chunks.push(chunk);
    }
    this.#size += chunk.length;
    return true;
  }

  /** undici: the body has ended. */
  onComplete(trailers: Buffer[] | string[] | null): void {
    const wire = this.#wire!;
    if (trailers && trailers.length > 0) util.parseHeaders(trailers as Buffer[], wire.raw.trailers);
    if (!this.#whole) {
      this.#stream!.push(null);
      return;
    }
    this.#finish();
    const chunks = this.#chunks;
    // One chunk is copied, as undici's own bytes() does: it may be a view of a larger buffer.
    wire.body = chunks ? Buffer.concat(chunks, this.#size) : new Uint8Array(this.#first ?? EMPTY);
    try {
      this.#resolve(this.#call.policy.collected(this.#ctx, wire));
    } catch (error) {
      this.#reject(error);
    }
  }

  /** undici: the request failed (before the head, or while the body came). */
  onError(error: Error): void {
    this.#headDone();
    const body = this.#request.body;
    if (body instanceof Readable) body.on('error', noop).destroy(error);
    const stream = this.#stream;
    if (stream === undefined) {
      this.#finish();
      this.#reject(this.#call.mapError(error, this.#ctx));
    }
    // After the current undici callbacks, as undici's request() does: a reader may be mid-chunk.
    else queueMicrotask(() => stream.destroy(error));
  }
}

const noop = () => {};
const EMPTY = new Uint8Array(0);

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
