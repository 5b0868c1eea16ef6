// createClient(): validates options, turns each call into a Context and runs it through the onion.
// Its last step, just before the transport, checks the request and follows redirects (redirect.ts).
import { bodyLength } from './body.js';
import { compose } from './compose.js';
import { createContext } from './context.js';
import { ConfigError, TimeoutError } from './errors.js';
import type { Logger } from './logger.js';
import { DEFAULT_REDACT_HEADERS, REDACTED, redactUrl } from './redact.js';
import { warnStackOrder } from './stack-lint.js';
import {
  createRedirectStep,
  LAST_ATTEMPT,
  MAX_REDIRECTS,
  ORIGIN,
  REDIRECT,
  type RedirectMode,
} from './redirect.js';
import type {
  Context,
  Handler,
  HttpResponse,
  Middleware,
  Progress,
  RequestBody,
  RequestMeta,
  Transport,
} from './types.js';

// The global HeadersInit exists only with the DOM lib; users on @types/node alone have Headers but
// not HeadersInit, so the published declarations must not name it.
type HeadersInit = ConstructorParameters<typeof Headers>[0];

/** A value allowed in `query`: arrays repeat the key, `undefined` is dropped. */
export type QueryValue = string | number | boolean | bigint | null | undefined;

/** Options of one call. Every field is optional; client options give the defaults. */
export interface RequestOptions {
  /** @default 'GET' */
  method?: string;
  /** Merged over the client's `headers`; a `null` or `undefined` value removes a default header. */
  headers?: HeadersInit | Record<string, string | null | undefined>;
  /** Query parameters appended to the URL. Arrays repeat the key; `undefined` values are dropped. */
  query?: Record<string, QueryValue | readonly QueryValue[]> | URLSearchParams;
  /** A value serialised as JSON; sets `content-type: application/json` unless given. Not with `body`. */
  json?: unknown;
  /** The body: string, bytes, URLSearchParams, FormData, Blob, a stream or an async iterable. */
  body?: RequestBody;
  /** Aborts the call; it rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** A deadline for the whole call in ms (`TimeoutError`); `0` means none. @default client's `timeoutMs` */
  timeoutMs?: number;
  /** A low-cardinality route such as `/items/:id`, for metrics and span names. */
  pathTemplate?: string;
  /** Read the body before middleware see the response. `false` gives `res.body` as a stream. @default true */
  readBody?: boolean;
  /** Free-form data for middleware. */
  meta?: RequestMeta;
  /** @default client's `redirect` */
  redirect?: RedirectMode;
  /** @default client's `maxRedirects` */
  maxRedirects?: number;
  /** Overrides the transport's `maxResponseBytes` for this call. */
  maxResponseBytes?: number;
  /** Called as the request body is sent, at most every 50 ms and once at the end. */
  onUploadProgress?: (progress: Progress) => void;
  /** Called as the response body is read, at most every 50 ms and once at the end. */
  onDownloadProgress?: (progress: Progress) => void;
}

/** Options of {@link createClient}. Every field is optional. */
export interface ClientOptions {
  /** Relative request URLs are appended to it (`/items` on `https://api.x/v1` → `https://api.x/v1/items`). */
  baseUrl?: string | URL;
  /** Headers sent with every call. */
  headers?: HeadersInit;
  /** A deadline for every call in ms; `0` means none. @default 0 */
  timeoutMs?: number;
  /** @default true */
  readBody?: boolean;
  /** `follow` redirects, hand them back (`manual`), or fail on them (`error`). @default 'follow' */
  redirect?: RedirectMode;
  /** @default 5 */
  maxRedirects?: number;
  /** Extra header names dropped when a redirect leaves the origin. @default ['x-api-key', 'x-auth-token'] */
  sensitiveHeaders?: string[];
  /** Allow absolute URLs to other origins than `baseUrl`. @default false */
  allowAbsoluteUrls?: boolean;
  /** Where the client warns about likely mistakes. */
  logger?: Logger;
}

/** The interface application code depends on; any stack satisfies it. */
export interface Client {
  /** Sends a request with `options.method` (default `GET`); see {@link RequestOptions}. */
  request(url: string | URL, options?: RequestOptions): Promise<HttpResponse>;
  /** Sends a GET; see {@link RequestOptions}. */
  get(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a POST; see {@link RequestOptions}. */
  post(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a PUT; see {@link RequestOptions}. */
  put(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a PATCH; see {@link RequestOptions}. */
  patch(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a DELETE; see {@link RequestOptions}. */
  delete(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends a HEAD; see {@link RequestOptions}. */
  head(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** Sends an OPTIONS; see {@link RequestOptions}. */
  options(url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse>;
  /** The terminal of the stack: reach the undici `Agent` or the `fetch` in use through it. */
  readonly transport: Transport;
  /** The pipeline by name, outside-in, ending in the transport. */
  describe(): string[];
  /** A new client on the same stack and transport with these options merged over the current ones. */
  extend(options: ClientOptions): Client;
  /** Closes the transport's connections. */
  close(): Promise<void>;
  /** Closes the transport, for `await using`; see {@link Client.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The defaults of {@link ClientOptions}. */
export const DEFAULT_CLIENT_OPTIONS = {
  /** @see ClientOptions.timeoutMs */
  timeoutMs: 0,
  /** @see ClientOptions.readBody */
  readBody: true,
  /** @see ClientOptions.redirect */
  redirect: 'follow' as RedirectMode,
  /** @see ClientOptions.maxRedirects */
  maxRedirects: 5,
  /** @see ClientOptions.sensitiveHeaders */
  sensitiveHeaders: ['x-api-key', 'x-auth-token'],
  /** @see ClientOptions.allowAbsoluteUrls */
  allowAbsoluteUrls: false,
};

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REDIRECT_MODES: readonly string[] = ['follow', 'manual', 'error'];

function checkMs(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(option, value, 'expected a finite number of ms >= 0');
  }
  return value;
}

function checkCount(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(option, value, 'expected an integer >= 0');
  }
  return value;
}

function checkRedirect(option: string, value: unknown): RedirectMode | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !REDIRECT_MODES.includes(value)) {
    throw new ConfigError(option, value, "expected 'follow', 'manual' or 'error'");
  }
  return value as RedirectMode;
}

// C0 controls and DEL: the URL parser silently drops CR, LF and tab and encodes NUL, which would turn
// an injection attempt into a different request instead of refusing it.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A URL for an error message: userinfo and secret query values removed, even when it does not parse. */
function describeUrl(value: string | URL): string {
  return redactUrl(String(value)).replace(/\/\/[^/?#]*@/, '//');
}

function parseHttpUrl(option: string, value: string | URL, base?: string): URL {
  if (typeof value === 'string' && CONTROL.test(value)) {
    throw new ConfigError(option, describeUrl(value), 'control characters (CR, LF, NUL…) in a URL');
  }
  let url: URL;
  try {
    url = new URL(value, base);
  } catch (cause) {
    throw new ConfigError(option, describeUrl(value), 'expected a valid URL', { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(option, describeUrl(value), 'only http: and https: URLs are allowed');
  }
  return url;
}

/** Header values that must never appear in an error message: they are likely credentials. */
function isSecretHeader(name: string, sensitive: readonly string[] = []): boolean {
  const lower = name.toLowerCase();
  return DEFAULT_REDACT_HEADERS.includes(lower) || sensitive.includes(lower);
}

/**
 * A bad header name or value, as a ConfigError. The TypeError that Headers throws quotes the value,
 * so it is kept as `cause` only when the header is not a credential.
 */
function badHeader(
  option: string,
  name: string,
  value: unknown,
  cause: unknown,
  sensitive?: readonly string[],
) {
  const secret = isSecretHeader(name, sensitive);
  return new ConfigError(
    `${option}.${name}`,
    secret ? REDACTED : value,
    'invalid header name or value (CR, LF or NUL?)',
    secret ? {} : { cause },
  );
}

function toHeaders(option: string, init: unknown, sensitive?: readonly string[]): Headers {
  // Own enumerable keys only: a polluted Object.prototype must not inject headers.
  if (
    init !== null &&
    typeof init === 'object' &&
    !(init instanceof Headers) &&
    !Array.isArray(init)
  ) {
    const headers = new Headers();
    for (const name of Object.keys(init)) {
      const value = (init as Record<string, unknown>)[name];
      try {
        if (value !== undefined && value !== null) headers.set(name, String(value));
      } catch (cause) {
        throw badHeader(option, name, value, cause, sensitive);
      }
    }
    return headers;
  }
  try {
    return new Headers(init as HeadersInit | undefined);
  } catch {
    // No cause: its message quotes the offending value, which may be a credential.
    throw new ConfigError(option, init, 'invalid header name or value (CR, LF or NUL?)');
  }
}

function own<T extends object, K extends keyof T>(object: T | undefined, key: K): T[K] | undefined {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

interface ResolvedClientOptions {
  base: URL | undefined;
  baseHref: string | undefined;
  headers: Headers | undefined;
  timeoutMs: number;
  readBody: boolean;
  redirect: RedirectMode;
  maxRedirects: number;
  sensitiveHeaders: string[];
  allowAbsoluteUrls: boolean;
  logger: Logger | undefined;
}

// Only own properties are read, so a polluted Object.prototype (baseUrl, headers…) changes nothing.
function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('options', options, 'expected an object');
  }
  const baseUrl = own(options, 'baseUrl');
  const base = baseUrl === undefined ? undefined : parseHttpUrl('baseUrl', baseUrl);
  const headers = own(options, 'headers');
  const sensitive = own(options, 'sensitiveHeaders');
  if (
    sensitive !== undefined &&
    (!Array.isArray(sensitive) || sensitive.some((h) => typeof h !== 'string'))
  ) {
    throw new ConfigError('sensitiveHeaders', sensitive, 'expected an array of header names');
  }
  const logger = own(options, 'logger');
  return {
    base,
    baseHref: base ? base.href.replace(/\/+$/, '') : undefined,
    headers: headers === undefined ? undefined : toHeaders('headers', headers, sensitive),
    timeoutMs: checkMs('timeoutMs', own(options, 'timeoutMs')) ?? DEFAULT_CLIENT_OPTIONS.timeoutMs,
    readBody: own(options, 'readBody') ?? DEFAULT_CLIENT_OPTIONS.readBody,
    redirect:
      checkRedirect('redirect', own(options, 'redirect')) ?? DEFAULT_CLIENT_OPTIONS.redirect,
    maxRedirects:
      checkCount('maxRedirects', own(options, 'maxRedirects')) ??
      DEFAULT_CLIENT_OPTIONS.maxRedirects,
    sensitiveHeaders: (sensitive ?? DEFAULT_CLIENT_OPTIONS.sensitiveHeaders).map((h) =>
      h.toLowerCase(),
    ),
    allowAbsoluteUrls:
      own(options, 'allowAbsoluteUrls') ?? DEFAULT_CLIENT_OPTIONS.allowAbsoluteUrls,
    logger,
  };
}

function isTransport(value: unknown): value is Transport {
  return typeof value === 'function' && (value as Partial<Transport>).isTransport === true;
}

function appendQuery(url: URL, query: NonNullable<RequestOptions['query']>): void {
  if (query instanceof URLSearchParams) {
    for (const [name, value] of query) url.searchParams.append(name, value);
    return;
  }
  if (typeof query !== 'object' || query === null) {
    throw new ConfigError('query', query, 'expected an object or URLSearchParams');
  }
  for (const name of Object.keys(query)) {
    const value = query[name];
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item !== undefined) url.searchParams.append(name, item === null ? '' : String(item));
    }
  }
}

/**
 * Builds a client from a stack: middleware outside-in, then the transport last.
 * Throws `ConfigError` when the stack has no transport, the transport is not last, an element is
 * not a function, or an option is invalid.
 * @example
 * const client = createClient([retry(), expectStatus([200]), undiciTransport()], {
 *   baseUrl: 'https://api.partner.example/v1',
 *   timeoutMs: 10_000,
 * });
 * const res = await client.get('/items/42', { pathTemplate: '/items/:id' });
 * console.log(await res.json());
 */
export function createClient(
  stack: ReadonlyArray<Middleware | Transport>,
  options?: ClientOptions,
): Client {
  if (!Array.isArray(stack))
    throw new ConfigError('stack', stack, 'expected an array of middleware ending in a transport');
  stack.forEach((element, i) => {
    if (typeof element !== 'function') {
      throw new ConfigError(
        `stack[${i}]`,
        element,
        'expected a middleware function or a transport',
      );
    }
    if (isTransport(element) && i !== stack.length - 1) {
      throw new ConfigError(
        `stack[${i}]`,
        element,
        'the transport must be the last element of the stack',
      );
    }
  });
  const transport = stack[stack.length - 1];
  if (!isTransport(transport)) {
    throw new ConfigError(
      'stack',
      transport,
      'the last element must be a transport: undiciTransport() from @extapi/backend-undici or fetchTransport() from @extapi/backend-fetch',
    );
  }
  const middleware = stack.slice(0, -1) as Middleware[];
  const resolved = resolveClientOptions(options);
  warnStackOrder(middleware, resolved.logger);
  return buildClient(middleware, transport, resolved, options ?? {});
}

function buildClient(
  middleware: Middleware[],
  transport: Transport,
  resolved: ResolvedClientOptions,
  input: ClientOptions,
): Client {
  const run = compose(...middleware);
  const terminal: Handler = createRedirectStep(transport, resolved);
  const next = (ctx?: Context) => terminal(ctx!);

  function resolveUrl(input: string | URL): URL {
    if (resolved.base === undefined) return parseHttpUrl('url', input);
    const text = String(input);
    // Absolute (scheme:) or protocol-relative (//host) URLs must stay on the base's origin.
    if (input instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(text) || text.startsWith('//')) {
      const url = parseHttpUrl('url', text, resolved.base.href);
      if (url.origin !== resolved.base.origin && !resolved.allowAbsoluteUrls) {
        throw new ConfigError(
          'url',
          describeUrl(text),
          `another origin than baseUrl ${resolved.base.origin} (set allowAbsoluteUrls to allow)`,
        );
      }
      return url;
    }
    const path = text === '' || text.startsWith('/') || text.startsWith('?') ? text : `/${text}`;
    return parseHttpUrl('url', resolved.baseHref + path);
  }

  function request(input: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    let ctx: Context;
    let timeoutMs: number;
    let userSignal: AbortSignal | undefined;
    try {
      userSignal = own(options, 'signal');
      if (userSignal?.aborted) return Promise.reject(userSignal.reason);
      const method = (own(options, 'method') ?? 'GET').toUpperCase();
      if (!TOKEN.test(method))
        throw new ConfigError('method', method, 'expected an HTTP method token');
      const url = resolveUrl(input);
      const query = own(options, 'query');
      if (query !== undefined) appendQuery(url, query);

      const headers = resolved.headers ? new Headers(resolved.headers) : new Headers();
      const extra = own(options, 'headers');
      if (extra !== undefined) {
        if (
          extra !== null &&
          typeof extra === 'object' &&
          !(extra instanceof Headers) &&
          !Array.isArray(extra)
        ) {
          // A null or undefined value removes a client default header.
          for (const name of Object.keys(extra)) {
            const value = (extra as Record<string, unknown>)[name];
            try {
              if (value === undefined || value === null) headers.delete(name);
              else headers.set(name, String(value));
            } catch (cause) {
              throw badHeader('headers', name, value, cause, resolved.sensitiveHeaders);
            }
          }
        } else {
          for (const [name, value] of toHeaders('headers', extra)) headers.set(name, value);
        }
      }
      if (url.username !== '' || url.password !== '') {
        // Userinfo is a credential: it goes out as Basic auth (as curl does) unless the call sets
        // Authorization, and never stays in the URL, where fetch refuses it and errors, logs and
        // spans would show it.
        if (!headers.has('authorization')) {
          const pair = `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`;
          headers.set('authorization', `Basic ${Buffer.from(pair).toString('base64')}`);
        }
        url.username = '';
        url.password = '';
      }

      let body = own(options, 'body');
      const json = own(options, 'json');
      if (json !== undefined) {
        if (body !== undefined)
          throw new ConfigError('json', '[json and body]', 'give either json or body, not both');
        body = JSON.stringify(json);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      } else if (body instanceof URLSearchParams) {
        body = body.toString();
        if (!headers.has('content-type')) {
          headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
        }
      }
      if (body !== undefined && bodyLength(body) === undefined && !isStreamLike(body)) {
        throw new ConfigError(
          'body',
          body,
          'expected a string, bytes, URLSearchParams, FormData, Blob, stream or async iterable',
        );
      }

      timeoutMs = checkMs('timeoutMs', own(options, 'timeoutMs')) ?? resolved.timeoutMs;
      const redirect = checkRedirect('redirect', own(options, 'redirect'));
      const maxRedirects = checkCount('maxRedirects', own(options, 'maxRedirects'));
      const maxResponseBytes = checkCount('maxResponseBytes', own(options, 'maxResponseBytes'));
      const pathTemplate = own(options, 'pathTemplate');
      const meta: RequestMeta = { ...own(options, 'meta') };
      if (pathTemplate !== undefined) meta.pathTemplate = pathTemplate;

      ctx = createContext({
        request: { method, url, headers, body },
        meta,
        readBody: own(options, 'readBody') ?? resolved.readBody,
        maxResponseBytes,
        sensitiveHeaders: resolved.sensitiveHeaders,
        onUploadProgress: own(options, 'onUploadProgress'),
        onDownloadProgress: own(options, 'onDownloadProgress'),
      });
      ctx.state.set(ORIGIN, url.origin);
      if (redirect !== undefined) ctx.state.set(REDIRECT, redirect);
      if (maxRedirects !== undefined) ctx.state.set(MAX_REDIRECTS, maxRedirects);
    } catch (error) {
      return Promise.reject(error);
    }
    return execute(ctx, userSignal, timeoutMs);
  }

  function execute(ctx: Context, userSignal: AbortSignal | undefined, timeoutMs: number) {
    // Nothing can abort this call from outside: skip the AbortController, the costliest part of a call.
    if (userSignal === undefined && timeoutMs === 0) return run(ctx, next);
    return executeAbortable(ctx, userSignal, timeoutMs);
  }

  async function executeAbortable(
    ctx: Context,
    userSignal: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    const controller = new AbortController();
    ctx.signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    let timeoutError: TimeoutError | undefined;
    const onAbort = () => controller.abort(userSignal!.reason);
    userSignal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        timeoutError = new TimeoutError(timeoutMs, {
          method: ctx.request.method,
          url: ctx.request.url,
          attempt: (ctx.state.get(LAST_ATTEMPT) as number | undefined) ?? ctx.attempt,
          phase: 'request',
        });
        controller.abort(timeoutError);
      }, timeoutMs);
    }
    let streaming = false;
    try {
      const response = await run(ctx, next);
      const body = response.body;
      if (body && userSignal) {
        // The caller's signal must still reach a body that is streamed after we return.
        streaming = true;
        body.once('close', () => userSignal.removeEventListener('abort', onAbort));
      }
      return response;
    } catch (error) {
      // Whatever the transport made of the abort, the caller sees its own reason or our TimeoutError.
      if (userSignal?.aborted) throw userSignal.reason;
      if (timeoutError && controller.signal.aborted) throw timeoutError;
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      if (!streaming) userSignal?.removeEventListener('abort', onAbort);
    }
  }

  const method =
    (name: string) =>
    (url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse> =>
      request(url, { ...options, method: name });

  const names = [
    ...middleware.map((fn) => fn.name || 'anonymous'),
    `${transport.transportName}Transport`,
  ];

  const client: Client = {
    request,
    get: method('GET'),
    post: method('POST'),
    put: method('PUT'),
    patch: method('PATCH'),
    delete: method('DELETE'),
    head: method('HEAD'),
    options: method('OPTIONS'),
    transport,
    describe: () => names.slice(),
    extend: (more) => {
      const merged: ClientOptions = { ...input, ...more };
      return buildClient(middleware, transport, resolveClientOptions(merged), merged);
    },
    close: () => transport.close(),
    [Symbol.asyncDispose]: () => transport.close(),
  };
  return Object.freeze(client);
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function isStreamLike(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (typeof (body as ReadableStream).getReader === 'function' ||
      typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
      body instanceof FormData ||
      body instanceof URLSearchParams)
  );
}
