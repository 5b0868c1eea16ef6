// createClient(): validates options, turns each call into a Context and runs it through the onion.
// Its last step, just before the transport, checks the request and follows redirects (redirect.ts).
import { bodyLength } from './body.js';
import { chain, isResponse, noResponseError, type Trail } from './compose.js';
import { createContext } from './context.js';
import { ConfigError, TimeoutError } from './errors.js';
import type { Logger } from './logger.js';
import { type OptionSpec, option, readOptions, unknownOption } from './options.js';
import { DEFAULT_SENSITIVE_HEADERS, isSensitiveHeader, REDACTED } from './redact.js';
import { AbortScope } from './scope.js';
import { warnStackOrder } from './stack-lint.js';
import { appendQuery, type BaseUrl, parseBaseUrl, type Query, resolveUrl } from './url.js';
import { createRedirectStep, type RedirectMode } from './redirect.js';
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

export type { QueryValue } from './url.js';

/** Options of one call. Every field is optional; client options give the defaults. */
export interface RequestOptions {
  /** @default 'GET' */
  method?: string;
  /** Merged over the client's `headers`; a `null` or `undefined` value removes a default header. */
  headers?: HeadersInit | Record<string, string | null | undefined>;
  /** Query parameters appended to the URL. Arrays repeat the key; `undefined` values are dropped. */
  query?: Query;
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
  /**
   * Header names dropped when a redirect leaves the origin, in addition to the default list
   * (`authorization`, `proxy-authorization`, `cookie`, `x-api-key`, …), which always applies.
   * @default []
   */
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
  sensitiveHeaders: [] as readonly string[],
  /** @see ClientOptions.allowAbsoluteUrls */
  allowAbsoluteUrls: false,
};

// RFC 9110 §5.6.2 token (ASCII only, so `ſet` is refused rather than upper-cased to `SET`).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REDIRECT_MODES = ['follow', 'manual', 'error'] as const;

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
  const secret = isSensitiveHeader(name, sensitive && new Set(sensitive));
  return new ConfigError(
    `${option}.${name}`,
    secret ? REDACTED : value,
    'invalid header name or value (CR, LF or NUL?)',
    secret ? {} : { cause },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Headers) &&
    !Array.isArray(value)
  );
}

/**
 * Sets `init` on `headers`. In a record (own keys only, so a polluted Object.prototype injects
 * nothing) a `null` or `undefined` value removes the header.
 */
function setHeaders(
  headers: Headers,
  option: string,
  init: unknown,
  sensitive?: readonly string[],
) {
  if (isRecord(init)) {
    for (const name of Object.keys(init)) {
      const value = init[name];
      try {
        if (value === undefined || value === null) headers.delete(name);
        else headers.set(name, String(value));
      } catch (cause) {
        throw badHeader(option, name, value, cause, sensitive);
      }
    }
    return headers;
  }
  let list: Headers;
  try {
    list = new Headers(init as HeadersInit | undefined);
  } catch {
    // No cause and no value: the TypeError quotes the offending value, which may be a credential.
    throw new ConfigError(option, REDACTED, 'invalid header name or value (CR, LF or NUL?)');
  }
  for (const [name, value] of list) headers.set(name, value);
  return headers;
}

const CLIENT_SPEC = {
  baseUrl: (value: unknown) => (value === undefined ? undefined : parseBaseUrl(value)),
  headers: (value: unknown) => value,
  timeoutMs: option.ms({ default: DEFAULT_CLIENT_OPTIONS.timeoutMs }),
  readBody: option.boolean(DEFAULT_CLIENT_OPTIONS.readBody),
  redirect: option.oneOf(REDIRECT_MODES, DEFAULT_CLIENT_OPTIONS.redirect),
  maxRedirects: option.integer({ default: DEFAULT_CLIENT_OPTIONS.maxRedirects }),
  sensitiveHeaders: option.array(option.string<never>(), DEFAULT_CLIENT_OPTIONS.sensitiveHeaders),
  allowAbsoluteUrls: option.boolean(DEFAULT_CLIENT_OPTIONS.allowAbsoluteUrls),
  logger: option.logger<Logger>(),
} satisfies OptionSpec<ClientOptions>;

interface ResolvedClientOptions {
  base: BaseUrl | undefined;
  headers: Headers | undefined;
  timeoutMs: number;
  readBody: boolean;
  redirect: RedirectMode;
  maxRedirects: number;
  /** The default credential headers and the client's own, lower-cased. */
  sensitiveHeaders: string[];
  /** The same names as a set, built once and shared by every call (never changed). */
  sensitiveSet: ReadonlySet<string>;
  allowAbsoluteUrls: boolean;
  logger: Logger | undefined;
}

function resolveClientOptions(options: ClientOptions | undefined): ResolvedClientOptions {
  const o = readOptions('createClient()', options, CLIENT_SPEC);
  // The client's list adds to the defaults; it never replaces them.
  const sensitive = [
    ...new Set([...DEFAULT_SENSITIVE_HEADERS, ...o.sensitiveHeaders.map((h) => h.toLowerCase())]),
  ];
  return {
    ...o,
    base: o.baseUrl,
    headers:
      o.headers === undefined
        ? undefined
        : setHeaders(new Headers(), 'headers', o.headers, sensitive),
    sensitiveHeaders: sensitive,
    sensitiveSet: new Set(sensitive),
  };
}

function isTransport(value: unknown): value is Transport {
  return typeof value === 'function' && (value as Partial<Transport>).isTransport === true;
}

// Every request option, once: the list of known keys cannot drift from RequestOptions.
const REQUEST_KEYS = {
  method: true,
  headers: true,
  query: true,
  json: true,
  body: true,
  signal: true,
  timeoutMs: true,
  pathTemplate: true,
  readBody: true,
  meta: true,
  redirect: true,
  maxRedirects: true,
  maxResponseBytes: true,
  onUploadProgress: true,
  onDownloadProgress: true,
} satisfies Record<keyof RequestOptions, true>;
const REQUEST_KEY_LIST = Object.keys(REQUEST_KEYS);
const EMPTY_REQUEST = Object.fromEntries(REQUEST_KEY_LIST.map((key) => [key, undefined])) as Record<
  keyof RequestOptions,
  unknown
>;

// Per-call checks, built once.
const checkTimeout = option.ms();
const checkReadBody = option.boolean();
const checkRedirect = option.oneOf(REDIRECT_MODES);
const checkMaxRedirects = option.integer();
const checkMaxResponseBytes = option.integer({ infinity: true });
const checkProgress = option.fn<(progress: Progress) => void>();
const checkPathTemplate = option.string();

/**
 * The call's options as own values only: every known key is an own field of the result (so a
 * polluted Object.prototype fills none of them), and an unknown key is a `ConfigError`.
 */
function readRequestOptions(options: unknown): Record<keyof RequestOptions, unknown> {
  if (!isRecord(options)) throw new ConfigError('options', options, 'expected an object');
  const o: Record<keyof RequestOptions, unknown> = { ...EMPTY_REQUEST };
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(REQUEST_KEYS, key)) throw unknownOption('request()', key, REQUEST_KEY_LIST);
    o[key as keyof RequestOptions] = options[key];
  }
  return o;
}

function isSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

/**
 * Builds a client from a stack: middleware outside-in, then the transport last.
 * Throws `ConfigError` when the stack has no transport, the transport is not last, an element is
 * not a function, or an option is invalid or unknown.
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
  const run = chain(middleware);
  const terminal: Handler = createRedirectStep(transport, resolved);
  const next = (ctx?: Context) => terminal(ctx!);
  const names = middleware.map((fn) => fn.name || 'anonymous');

  function buildContext(
    input: string | URL,
    o: Record<keyof RequestOptions, unknown>,
    timeoutMs: number,
  ): Context {
    const rawMethod = o.method ?? 'GET';
    if (typeof rawMethod !== 'string' || !TOKEN.test(rawMethod)) {
      throw new ConfigError('method', rawMethod, 'expected an HTTP method token');
    }
    const method = rawMethod.toUpperCase();
    const url = resolveUrl(input, resolved.base, resolved.allowAbsoluteUrls);
    if (o.query !== undefined) appendQuery(url, o.query as Query);

    const headers = resolved.headers ? new Headers(resolved.headers) : new Headers();
    if (o.headers !== undefined)
      setHeaders(headers, 'headers', o.headers, resolved.sensitiveHeaders);
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

    let body = o.body as RequestBody | undefined;
    if (o.json !== undefined) {
      if (body !== undefined)
        throw new ConfigError('json', '[json and body]', 'give either json or body, not both');
      body = JSON.stringify(o.json);
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
    if (o.signal !== undefined && !isSignal(o.signal)) {
      throw new ConfigError('signal', o.signal, 'expected an AbortSignal');
    }
    const meta = o.meta;
    if (meta !== undefined && !isRecord(meta))
      throw new ConfigError('meta', meta, 'expected an object');
    const pathTemplate = checkPathTemplate(o.pathTemplate, 'pathTemplate');

    const onTimeout = () =>
      new TimeoutError(timeoutMs, {
        method: ctx.request.method,
        url: ctx.request.url,
        attempt: ctx.call.lastAttempt || ctx.attempt,
        phase: 'request',
      });
    const ctx: Context = createContext({
      request: { method, url, headers, body },
      scope: new AbortScope(undefined, timeoutMs, onTimeout, o.signal as AbortSignal | undefined),
      meta: pathTemplate === undefined ? { ...meta } : { ...meta, pathTemplate },
      readBody: checkReadBody(o.readBody, 'readBody') ?? resolved.readBody,
      maxResponseBytes: checkMaxResponseBytes(o.maxResponseBytes, 'maxResponseBytes'),
      sensitiveHeaders: resolved.sensitiveSet,
      call: {
        origin: url.origin,
        redirect: checkRedirect(o.redirect, 'redirect') ?? resolved.redirect,
        maxRedirects: checkMaxRedirects(o.maxRedirects, 'maxRedirects') ?? resolved.maxRedirects,
      },
      onUploadProgress: checkProgress(o.onUploadProgress, 'onUploadProgress'),
      onDownloadProgress: checkProgress(o.onDownloadProgress, 'onDownloadProgress'),
    });
    return ctx;
  }

  function request(input: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    let ctx: Context;
    let userSignal: AbortSignal | undefined;
    try {
      const o = readRequestOptions(options);
      userSignal = o.signal as AbortSignal | undefined;
      if (userSignal?.aborted) return Promise.reject(userSignal.reason);
      const timeoutMs = checkTimeout(o.timeoutMs, 'timeoutMs') ?? resolved.timeoutMs;
      ctx = buildContext(input, o, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return execute(ctx, userSignal);
  }

  /**
   * Runs the call through the stack on its root scope: the one place its deadline and the
   * caller's signal live, released when the call settles (or its streamed body closes).
   */
  async function execute(ctx: Context, userSignal: AbortSignal | undefined) {
    const scope = ctx.scope;
    const trail: Trail = new Array(names.length);
    let streaming = false;
    try {
      const response = await run(ctx, next, trail);
      if (!isResponse(response)) return await noResponseError(ctx, response, trail, names);
      const body = response.body;
      if (scope.canAbort && body && !body.destroyed && !body.readableEnded) {
        // The caller's signal and the deadline still reach a body streamed after we return, whatever
        // the transport makes of the abort; both are released when the body closes.
        streaming = true;
        const off = scope.onAbort((reason) => body.destroy(reason as Error));
        body.once('close', () => {
          off();
          scope.dispose();
        });
      }
      return response;
    } catch (error) {
      // Whatever the transport made of the abort, the caller sees its own reason or our TimeoutError.
      if (userSignal?.aborted) throw userSignal.reason;
      if (scope.aborted) throw scope.reason;
      throw error;
    } finally {
      if (!streaming) scope.dispose();
    }
  }

  const method =
    (name: string) =>
    (url: string | URL, options?: Omit<RequestOptions, 'method'>): Promise<HttpResponse> =>
      request(url, { ...options, method: name });

  const described = [...names, `${transport.transportName}Transport`];

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
    describe: () => described.slice(),
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
