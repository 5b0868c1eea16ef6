// Logs one line when a request is sent and one when its response or error comes back, secrets redacted.
// Placed before retry() it logs once per call; placed after it, once per attempt (with `attempt`).
import {
  defineMiddleware,
  type Context,
  type HttpResponse,
  isHttpStatusError,
  isTimeoutError,
  type Logger,
  type Middleware,
  type Next,
  redactHeaders,
  redactUrl,
  requestUrl,
} from '@extapi/core';
import { joinedNames } from '../shared/joined-names.js';
import { redactedRequestUrl } from '../shared/request-url.js';
import { type Level, type LoggingOptions, resolveLoggingOptions } from './options.js';
import { headerSet, previewBody, requestBodyBytes, summarise } from './redact.js';

export {
  DEFAULT_LOGGING_OPTIONS,
  type LoggingOptions,
  type ResolvedLoggingOptions,
  resolveLoggingOptions,
} from './options.js';

/** Whether `NODE_DEBUG` (comma-separated, `*` wildcards, any case, like util.debuglog) names `extapi`. */
export function nodeDebugEnabled(
  // No process in browsers and workers: off there.
  value: string | undefined = (globalThis as { process?: NodeJS.Process }).process?.env.NODE_DEBUG,
): boolean {
  if (!value) return false;
  return value.split(',').some((pattern) => {
    const glob = pattern
      .trim()
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*');
    return glob !== '' && new RegExp(`^${glob}$`, 'i').test('extapi');
  });
}

// The NODE_DEBUG sink: util.debuglog's `EXTAPI <pid>:` prefix, the message, then verbose fields as JSON.
// Written here rather than through util.debuglog because that one reads NODE_DEBUG only at startup.
function stderrLogger(): Logger {
  const write = (level: Level) => (obj: object, msg?: string) => {
    const { event, method, url, attempt, status, durationMs, err, ...extra } = obj as Record<
      string,
      unknown
    >;
    const tail = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
    process.stderr.write(
      `EXTAPI ${process.pid}: ${level === 'debug' ? '' : `${level.toUpperCase()} `}${msg ?? ''}${tail}\n`,
    );
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

// How many methods, and statuses per method, have their line prefix kept (see requestPrefix()).
const MAX_PREFIXES = 64;

/** The request line's fields, which the response or failure line repeats. */
interface Sent extends Record<string, unknown> {
  event: 'request';
  method: string;
  url: string;
  attempt: number;
}

/**
 * Logs each request and its outcome to a pino-style logger, with secrets redacted.
 *
 * - One `debug` line when the request is sent (method, URL, attempt) and one when the response
 *   arrives (plus status and duration in ms, measured to the headers for a streamed body).
 *   Responses with status >= 500 and errors are logged at `error`.
 * - A call the caller aborted is logged at `debug` as `aborted`: it is the caller's decision, not
 *   an upstream failure (a deadline from `timeoutMs` or `timeout()` is a `TimeoutError`, at `error`).
 * - Secrets never reach a line, by core's one list: credential headers (and `redactHeaders`) show
 *   as `[REDACTED]`, secret-looking query, path and fragment parameters (and `redactQuery`) too,
 *   URL userinfo is dropped, and in verbose bodies every one of those names (and
 *   `redactBodyFields`) is redacted at any depth of JSON, in form fields and in header lines.
 * - Position: before `retry()` one line pair per call; after it, one pair per attempt.
 *
 * State: none shared between calls. Logger errors are swallowed so logging never fails a call.
 * @example
 * const client = createClient([logging({ logger: pino(), verbose: true }), retry(), undiciTransport()]);
 */
export function logging(options: LoggingOptions = {}): Middleware {
  const resolved = resolveLoggingOptions(options);
  const logger = resolved.logger ?? (nodeDebugEnabled() ? stderrLogger() : undefined);
  if (logger === undefined) {
    const silent = function logging(ctx: Context, next: Next): Promise<HttpResponse> {
      return next(ctx);
    };
    return defineMiddleware(silent, { name: 'logging' });
  }
  const { verbose, maxBodyBytes, redactQuery } = resolved;
  // Body fields hide every name a header or a query parameter hides, and the ones named for bodies.
  const bodyFields = new Set([
    ...resolved.redactHeaders,
    ...resolved.redactQuery,
    ...resolved.redactBodyFields,
  ]);

  // The fixed start of a line, `request GET ` or `response 200 GET `, kept per method (and
  // status): joined afresh, its pieces were a new string each on every call. Past MAX_PREFIXES
  // (methods are the caller's own tokens) a prefix is joined and not kept.
  const requestPrefixes = new Map<string, string>();
  function requestPrefix(method: string): string {
    let prefix = requestPrefixes.get(method);
    if (prefix === undefined) {
      prefix = `request ${method} `;
      if (requestPrefixes.size < MAX_PREFIXES) requestPrefixes.set(method, prefix);
    }
    return prefix;
  }
  const responsePrefix = joinedNames(
    MAX_PREFIXES,
    (status: number, method: string) => `response ${status} ${method} `,
  );

  const emit = (level: Level, obj: object, msg: string) => {
    try {
      logger[level](obj, msg);
    } catch {
      // A broken logger must not turn a good response into a failure.
    }
  };

  /** The line of a call that got no response: an abort (debug) or a failure (error). */
  function logFailure(ctx: Context, error: unknown, sent: Sent, start: number): void {
    const { method, url, attempt } = sent;
    const durationMs = Math.round(performance.now() - start);
    const aborted =
      ctx.scope.aborted && !isTimeoutError(error) && !isTimeoutError(ctx.scope.reason);
    if (aborted) {
      emit(
        'debug',
        { event: 'abort', method, url, attempt, durationMs },
        `aborted ${method} ${url} after ${durationMs} ms`,
      );
      return;
    }
    const fields: Record<string, unknown> = {
      event: 'error',
      method,
      url,
      attempt,
      durationMs,
      err: summarise(error, redactQuery),
    };
    if (isHttpStatusError(error)) fields.status = error.status;
    emit(
      'error',
      fields,
      `failed ${method} ${url} after ${durationMs} ms: ${(fields.err as { message: string }).message}`,
    );
  }

  /** The response line; verbose, with the headers and a preview of a buffered body. */
  function logResponse(
    ctx: Context,
    response: HttpResponse,
    sent: Sent,
    start: number,
    hidden: ReadonlySet<string> | undefined,
    fields: ReadonlySet<string> | undefined,
  ): HttpResponse | Promise<HttpResponse> {
    const { method, url, attempt } = sent;
    const durationMs = Math.round(performance.now() - start);
    const { status } = response;
    const received: Record<string, unknown> = {
      event: 'response',
      method,
      url,
      attempt,
      status,
      durationMs,
    };
    if (response.url && response.url !== requestUrl(ctx.request).href)
      received.finalUrl = redactUrl(response.url, redactQuery);
    if (!hidden) return emitResponse(response, received);
    received.headers = redactHeaders(response.headers, hidden);
    // Only a buffered body: reading a stream here would consume what the caller asked to stream.
    if (!response.bodyRead || maxBodyBytes <= 0) return emitResponse(response, received);
    return response.bytes().then((bytes) => {
      if (bytes.byteLength > 0) {
        const type = response.headers.get('content-type');
        Object.assign(received, previewBody(bytes, maxBodyBytes, type, fields));
      }
      return emitResponse(response, received);
    });
  }

  function emitResponse(response: HttpResponse, received: Record<string, unknown>): HttpResponse {
    const { status, method, url, durationMs } = received;
    emit(
      (status as number) >= 500 ? 'error' : 'debug',
      received,
      `${responsePrefix(status as number, method as string)}${url} ${durationMs} ms`,
    );
    return response;
  }

  // Not async: a pass is its request line, next(), and one `.then` for the response line.
  const middleware = function logging(ctx: Context, next: Next): Promise<HttpResponse> {
    const { method } = ctx.request;
    const url = redactedRequestUrl(ctx.request, redactQuery);
    const attempt = ctx.attempt;
    const hidden = verbose ? headerSet(resolved.redactHeaders, ctx.sensitiveHeaders) : undefined;
    const fields = verbose ? headerSet(bodyFields, ctx.sensitiveHeaders) : undefined;

    const sent: Sent = { event: 'request', method, url, attempt };
    if (hidden) {
      sent.headers = redactHeaders(ctx.request.headers, hidden);
      const body = requestBodyBytes(ctx.request.body, maxBodyBytes);
      if (body && maxBodyBytes > 0) {
        const type = ctx.request.headers.get('content-type');
        Object.assign(sent, previewBody(body.bytes, maxBodyBytes, type, fields, body.total));
      }
    }
    emit(
      'debug',
      sent,
      `${requestPrefix(method)}${url}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
    );

    const start = performance.now();
    return next(ctx).then(
      (response) => logResponse(ctx, response, sent, start, hidden, fields),
      (error: unknown) => {
        logFailure(ctx, error, sent, start);
        throw error;
      },
    );
  };
  return defineMiddleware(middleware, { name: 'logging' });
}
