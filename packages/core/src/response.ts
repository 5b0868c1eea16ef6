// HttpResponse: one implementation for every transport, buffered or streaming.
// A buffered body can be read many times; a streaming one once, and discard() always releases it.
import type { BodyStream } from '@extapi/core/platform-types';
import { isWebStream, type RawBody, readBody } from './body.js';
import { ConfigError, ExtapiError, ResponseValidationError } from './errors.js';
import { type HeaderSource, recordHeaders, sourceHeader } from './record-headers.js';
import { isStandardSchema } from './schema-issues.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { HttpResponse } from './types.js';

/** What a transport hands to {@link createResponse}. */
export interface ResponseInit {
  /** The HTTP status code. */
  status: number;
  /** The reason phrase; default `''`. */
  statusText?: string;
  /**
   * The headers; or a function that builds them, or a {@link HeaderSource} they are read from, on
   * first access (most calls never look).
   */
  headers: Headers | HeaderSource | (() => Headers);
  /** The final URL, after redirects. */
  url: string;
  /** The method of the request. */
  method: string;
  /**
   * Buffered bytes, a stream still to read (a Node `Readable` on Node, a web `ReadableStream` in
   * browsers and workers), or `null` for no body.
   */
  body: Uint8Array | RawBody | null;
  /** The backend's own response object, exposed as {@link HttpResponse.raw}. */
  raw?: unknown;
  /** How to release an unread stream (e.g. drain small bodies, destroy large ones). Default: destroy. */
  // A method, so that a transport's own stream type (Readable or ReadableStream) fits.
  discard?(stream: RawBody): Promise<void>;
}

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

const noop = () => {};

function destroyStream(stream: RawBody): Promise<void> {
  if (isWebStream(stream)) return stream.cancel().catch(noop);
  stream.on('error', noop);
  stream.destroy();
  return Promise.resolve();
}

/** Whether a stream was read from or released already (a web stream: a reader was taken). */
function used(stream: RawBody): boolean {
  return isWebStream(stream) ? stream.locked : stream.readableDidRead || stream.destroyed;
}

/** Whether a stream needs no release any more. */
function settled(stream: RawBody): boolean {
  return !isWebStream(stream) && (stream.destroyed || stream.readableEnded);
}

class Response implements HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly method: string;
  readonly raw: unknown;
  #headers: Headers | HeaderSource | (() => Headers);
  #bytes: Uint8Array | undefined;
  #stream: RawBody | null;
  #reading: Promise<Uint8Array> | undefined;
  #discard: (stream: RawBody) => Promise<void>;

  constructor(init: ResponseInit) {
    this.status = init.status;
    this.statusText = init.statusText ?? '';
    this.#headers = init.headers;
    this.url = init.url;
    this.method = init.method;
    this.raw = init.raw;
    this.#discard = init.discard ?? destroyStream;
    if (init.body === null || init.body instanceof Uint8Array) {
      this.#bytes = init.body ?? EMPTY;
      this.#stream = null;
    } else {
      this.#stream = init.body;
    }
  }

  get headers(): Headers {
    let headers = this.#headers;
    if (typeof headers === 'function') this.#headers = headers = headers();
    else if (!(headers instanceof Headers)) this.#headers = headers = recordHeaders(headers);
    return headers;
  }

  /** A reader of one header at a time; see {@link peekResponseHeaders}. */
  peekHeaders(): Pick<Headers, 'get'> {
    const headers = this.#headers;
    if (headers instanceof Headers || typeof headers === 'function') return this.headers;
    return { get: (name) => sourceHeader(headers, name) };
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get body(): BodyStream | null {
    // The transport's stream: a Readable on Node, a web ReadableStream elsewhere (BodyStream).
    return this.#stream as BodyStream | null;
  }

  get bodyRead(): boolean {
    return this.#bytes !== undefined;
  }

  bytes(): Promise<Uint8Array> {
    if (this.#bytes !== undefined) return Promise.resolve(this.#bytes);
    if (!this.#reading) {
      const stream = this.#stream!;
      if (used(stream)) {
        return Promise.reject(
          new ExtapiError('Response body was already consumed', 'ERR_BODY_USED', this),
        );
      }
      this.#reading = readBody(stream).then((bytes) => {
        this.#bytes = bytes;
        this.#stream = null;
        return bytes;
      });
    }
    return this.#reading;
  }

  text(): Promise<string> {
    // A buffered body (the usual case) decodes at once: no async frame, no extra turn.
    const bytes = this.#bytes;
    if (bytes !== undefined) return Promise.resolve(decoder.decode(bytes));
    return this.bytes().then((read) => decoder.decode(read));
  }

  json<T = unknown>(): Promise<T>;
  json<S extends StandardSchemaV1>(schema: S): Promise<StandardSchemaV1.InferOutput<S>>;
  json(schema?: StandardSchemaV1): Promise<unknown> {
    if (schema !== undefined && !isStandardSchema(schema)) {
      return Promise.reject(
        new ConfigError('schema', schema, 'expected a Standard Schema (zod, valibot, arktype…)'),
      );
    }
    const bytes = this.#bytes;
    if (bytes !== undefined) {
      try {
        const value = this.#parse(decoder.decode(bytes));
        return schema === undefined ? Promise.resolve(value) : this.#check(schema, value);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.text().then((text) => {
      const value = this.#parse(text);
      return schema === undefined ? value : this.#check(schema, value);
    });
  }

  /** Validates a parsed body: one call of the schema; a synchronous schema costs no extra turn. */
  #check(schema: StandardSchemaV1, value: unknown): Promise<unknown> {
    let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
    try {
      result = schema['~standard'].validate(value);
    } catch (error) {
      return Promise.reject(error);
    }
    // Any thenable, not only this realm's Promise (a schema may come from another realm or polyfill).
    if (typeof (result as { then?: unknown }).then === 'function') {
      return Promise.resolve(result).then((settled) => this.#outcome(settled, value));
    }
    try {
      return Promise.resolve(this.#outcome(result as StandardSchemaV1.Result<unknown>, value));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #outcome(result: StandardSchemaV1.Result<unknown>, value: unknown): unknown {
    if (result.issues === undefined) return result.value;
    throw new ResponseValidationError(this, result.issues, value);
  }

  #parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (cause) {
      const start = text.length > 64 ? `${text.slice(0, 64)}…` : text;
      throw new ExtapiError(
        `Invalid JSON in response with status ${this.status}: ${JSON.stringify(start)}`,
        'ERR_INVALID_JSON',
        { method: this.method, url: this.url, cause },
      );
    }
  }

  discard(): Promise<void> {
    const stream = this.#stream;
    if (stream === null || this.#reading) return Promise.resolve();
    this.#stream = null;
    this.#bytes = EMPTY;
    if (settled(stream)) return Promise.resolve();
    return this.#discard(stream).catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.discard();
  }
}

/**
 * The headers of `response` for a reader that only asks for a few by name (a middleware looking
 * at every response, say): `get` answers as `response.headers.get` does, but a transport that read
 * the head lazily (undici's) is asked for each name instead of having every header copied into a
 * `Headers` first. Any other response gives its `headers`.
 * @example
 * const remaining = peekResponseHeaders(res).get('x-ratelimit-remaining');
 */
export function peekResponseHeaders(response: HttpResponse): Pick<Headers, 'get'> {
  return response instanceof Response ? response.peekHeaders() : response.headers;
}

/**
 * Builds an {@link HttpResponse}. Transports and the test kit use it; so can middleware that answer
 * from a cache or a fallback.
 * @example
 * return createResponse({ status: 200, headers: new Headers({ 'content-type': 'text/plain' }),
 *   url: ctx.request.url.href, method: ctx.request.method, body: Buffer.from('cached') });
 */
export function createResponse(init: ResponseInit): HttpResponse {
  return new Response(init);
}
