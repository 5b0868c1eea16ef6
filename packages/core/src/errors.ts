// The one error family of extapi: every error any package throws is an ExtapiError subclass.
// The brand that the guards (error-guards.ts) recognise is set here, in ExtapiError's constructor.
import type { HttpResponse } from './types.js';
import { REDACTED, redactUrl } from './redact.js';
import { describeIssues } from './schema-issues.js';
import type { StandardSchemaV1 } from './standard-schema.js';

import { BRAND } from './error-guards.js';

/** Where an error happened: method and a redacted URL (no userinfo, no secret query values). */
export interface RequestInfo {
  /** The request method, e.g. `GET`. */
  method?: string;
  /** The request URL; the error stores it redacted. */
  url?: string | URL;
  /** The 1-based attempt on which the error happened. */
  attempt?: number;
}

/** Options shared by every extapi error. */
export interface ExtapiErrorOptions extends RequestInfo {
  /** The underlying error, set as the standard `Error.cause`. */
  cause?: unknown;
}

/** The base of every error thrown by extapi. `code` is stable and safe to switch on. */
export class ExtapiError extends Error {
  /** A stable machine-readable code, e.g. `ERR_TIMEOUT`. */
  readonly code: string;
  /** The request method, when the error belongs to a request. */
  readonly method: string | undefined;
  /** The request URL with userinfo removed and secret query values redacted. */
  readonly url: string | undefined;
  /** The attempt on which the error happened, when known. */
  readonly attempt: number | undefined;
  /**
   * How many attempts the call made: 1 without `retry()`; when `retry()` gives up it rethrows the
   * last attempt's own error with this set to the number of attempts.
   */
  readonly attempts: number = 1;
  /**
   * The errors of the earlier attempts, oldest first (a retried response appears as an
   * `HttpStatusError`); empty after one attempt. Not enumerable, so logs stay small.
   */
  declare readonly previousErrors: readonly unknown[];

  constructor(message: string, code: string, options: ExtapiErrorOptions = {}) {
    const url = options.url === undefined ? undefined : redactUrl(options.url);
    const where = options.method && url ? ` (${options.method} ${url})` : url ? ` (${url})` : '';
    super(message + where, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.method = options.method;
    this.url = url;
    this.attempt = options.attempt;
    Object.defineProperty(this, BRAND, { value: true });
    Object.defineProperty(this, 'previousErrors', {
      value: [],
      writable: true,
      configurable: true,
    });
  }

  /** A plain summary without the response object or the cause's internals, safe to log. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      method: this.method,
      url: this.url,
      attempt: this.attempt,
      attempts: this.attempts,
    };
  }
}

/**
 * Records on the error of a call's last attempt how many attempts the call made and the errors of
 * the earlier ones, as `retry()` does before rethrowing it (see {@link ExtapiError.attempts}).
 * Errors that are not objects are left as they are.
 * @example
 * throw recordAttempts(lastError, attempt, earlierErrors);
 */
export function recordAttempts<E>(error: E, attempts: number, previousErrors: unknown[]): E {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
    const writable = { writable: true, configurable: true };
    Object.defineProperty(error, 'attempts', { value: attempts, enumerable: true, ...writable });
    Object.defineProperty(error, 'previousErrors', { value: previousErrors, ...writable });
  }
  return error;
}

/** Thrown by `expectStatus` (or the caller) for an unexpected status; carries the response. */
export class HttpStatusError extends ExtapiError {
  /** The HTTP status code of the response. */
  readonly status: number;
  /** The response, body already read when `readBody` was on. Not enumerable, so logs stay small. */
  declare readonly response: HttpResponse;
  constructor(response: HttpResponse, options: ExtapiErrorOptions & { expected?: string } = {}) {
    const expected = options.expected ? `, expected ${options.expected}` : '';
    super(`Unexpected HTTP status ${response.status}${expected}`, 'ERR_HTTP_STATUS', {
      method: response.method,
      url: response.url,
      ...options,
    });
    this.status = response.status;
    // Not enumerable so that logging or inspecting the error does not dump the response.
    Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status };
  }
}

/**
 * The response body parsed as JSON but did not match the schema given to `res.json(schema)`.
 * Carries the schema's `issues` and the response. The message lists up to three issues as
 * `path: message` with the body's values taken out (libraries quote the value they received, and
 * a wrong-typed field may hold a token), never the body itself; the URL is redacted as in every
 * extapi error. `issues` (whose entries may hold body values, e.g. valibot's `input`) and
 * `response` are not enumerable, so logging the error does not dump them.
 * @example
 * try { await res.json(User); } catch (e) {
 *   if (isResponseValidationError(e)) console.warn(e.message, e.issues.length);
 * }
 */
export class ResponseValidationError extends ExtapiError {
  /** The HTTP status code of the response. */
  readonly status: number;
  /** The schema's issues, as the library reported them. Not enumerable. */
  declare readonly issues: readonly StandardSchemaV1.Issue[];
  /** The response whose body failed validation, body already read. Not enumerable. */
  declare readonly response: HttpResponse;
  /**
   * @param body the parsed body, used only to take its values out of the message; not stored.
   */
  constructor(
    response: HttpResponse,
    issues: readonly StandardSchemaV1.Issue[],
    body: unknown,
    options: ExtapiErrorOptions = {},
  ) {
    super(
      `Response body with status ${response.status} does not match the schema: ${describeIssues(issues, body)}`,
      'ERR_RESPONSE_VALIDATION',
      { method: response.method, url: response.url, ...options },
    );
    this.status = response.status;
    Object.defineProperty(this, 'issues', { value: issues, enumerable: false });
    Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status, issueCount: this.issues.length };
  }
}

/** A deadline passed: `timeoutMs` of the client or request, or a `timeout()` middleware. */
export class TimeoutError extends ExtapiError {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;
  /** Which deadline: `request` (client/request `timeoutMs`), `middleware`, `connect`, `headers` or `body`. */
  readonly phase: string;
  constructor(timeoutMs: number, options: ExtapiErrorOptions & { phase?: string } = {}) {
    const phase = options.phase ?? 'request';
    super(`Timed out after ${timeoutMs} ms (${phase} deadline)`, 'ERR_TIMEOUT', options);
    this.timeoutMs = timeoutMs;
    this.phase = phase;
  }
}

/** The network failed: refused, reset, DNS, TLS. `code` is normalised across transports (`ECONNRESET`…). */
export class TransportError extends ExtapiError {
  constructor(message: string, code: string, options: ExtapiErrorOptions = {}) {
    super(message, code, options);
  }
}

/** A limiter's queue is full; the call was not sent. */
export class QueueFullError extends ExtapiError {
  constructor(maxQueue: number, options: ExtapiErrorOptions = {}) {
    super(`Queue is full (maxQueue ${maxQueue})`, 'ERR_QUEUE_FULL', options);
  }
}

/** The circuit breaker is open for this upstream; the call was not sent. */
export class CircuitOpenError extends ExtapiError {
  constructor(key: string, options: ExtapiErrorOptions = {}) {
    super(`Circuit is open for ${key}`, 'ERR_CIRCUIT_OPEN', options);
  }
}

/** The decoded response body exceeded `maxResponseBytes`. */
export class ResponseTooLargeError extends ExtapiError {
  /** The limit in bytes that the decoded body exceeded. */
  readonly maxResponseBytes: number;
  constructor(maxResponseBytes: number, options: ExtapiErrorOptions = {}) {
    super(
      `Response body exceeds maxResponseBytes ${maxResponseBytes}`,
      'ERR_RESPONSE_TOO_LARGE',
      options,
    );
    this.maxResponseBytes = maxResponseBytes;
  }
}

/** More redirects than `maxRedirects`, or a redirect where `redirect: 'error'` forbids one. */
export class TooManyRedirectsError extends ExtapiError {
  /** The redirect limit in force. */
  readonly maxRedirects: number;
  constructor(maxRedirects: number, options: ExtapiErrorOptions & { detail?: string } = {}) {
    super(
      options.detail ?? `More than ${maxRedirects} redirect(s)`,
      'ERR_TOO_MANY_REDIRECTS',
      options,
    );
    this.maxRedirects = maxRedirects;
  }
}

/** Invalid options or an invalid request, found before anything is sent. Names the option and the value. */
export class ConfigError extends ExtapiError {
  /** The option at fault, e.g. `timeoutMs` or `backoff.maxMs`. */
  readonly option: string;
  /** What the option accepts (or why it was refused), without the value. */
  readonly expected: string;
  /**
   * `value` is quoted in the message (shortened); pass `REDACTED` or `undefined` for a credential.
   * An `undefined` value is left out of the message (for unknown options).
   */
  constructor(option: string, value: unknown, expected: string, options: ExtapiErrorOptions = {}) {
    const shown = value === undefined ? '' : `: ${describeValue(value)}`;
    super(`Invalid option ${option}${shown} (${expected})`, 'ERR_CONFIG', options);
    this.option = option;
    this.expected = expected;
  }
}

/** A short, safe rendering of a bad option value for error messages. */
export function describeValue(value: unknown): string {
  if (value === REDACTED) return REDACTED;
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  return Object.prototype.toString.call(value);
}

/**
 * `client.paginate()` or `client.pages()` could not go on: a next page on another origin that
 * `allowOtherOrigins` does not allow, or at a URL that is not http(s) (`ERR_PAGINATION_ORIGIN`), a
 * page whose items could not be found (`ERR_PAGINATION_ITEMS`), a `Link` to the page itself
 * (`ERR_PAGINATION_LOOP`), or a `next()` that returned neither a URL, an object nor `undefined`
 * (`ERR_PAGINATION_NEXT`).
 * @example
 * try {
 *   for await (const item of client.paginate('/items')) use(item);
 * } catch (error) {
 *   if (isPaginationError(error) && error.code === 'ERR_PAGINATION_ORIGIN') alert(error.message);
 * }
 */
export class PaginationError extends ExtapiError {
  /** The 1-based number of the page at fault. */
  readonly page: number;
  constructor(message: string, code: string, page: number, options: ExtapiErrorOptions = {}) {
    super(message, code, options);
    this.page = page;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), page: this.page };
  }
}
