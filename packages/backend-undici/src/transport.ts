// undiciTransport(): the terminal of a stack, sending each request with undici's request() on a
// keep-alive Agent. It never follows redirects (core does) and decodes and limits bodies like core says.
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import {
  bodyLength,
  ConfigError,
  type Context,
  contentCodings,
  createResponse,
  decodeStream,
  defineTransport,
  discardStream,
  ExtapiError,
  type HttpResponse,
  isDiscardedRedirect,
  lengthMismatch,
  limitStream,
  type Logger,
  type AbortLike,
  type OptionCheck,
  type OptionSpec,
  option,
  REDACTED,
  ResponseTooLargeError,
  type ResolvedOptions,
  type ResponseInit,
  readBody,
  readOptions,
  responseLimit,
  TimeoutError,
  type Transport,
  withProgress,
} from '@extapi/core';
import {
  Agent,
  buildConnector,
  type Dispatcher,
  EnvHttpProxyAgent,
  ProxyAgent,
  FormData as UndiciFormData,
} from 'undici';
import { mapUndiciError } from './map-error.js';

/** Options of {@link undiciTransport}. Every field is optional; `undefined` means the default. */
export interface UndiciTransportOptions {
  /**
   * An undici dispatcher (Agent, Pool, ProxyAgent, MockAgent…) to send through instead of the
   * transport's own Agent. It is used as given and never closed by the transport; the Agent options
   * (`connections`, `pipelining`, `keepAliveTimeoutMs`, `connectTimeoutMs`) cannot be combined with it.
   * @default a keep-alive Agent owned (and closed) by the transport
   */
  dispatcher?: Dispatcher;
  /** Most connections per origin. @default Infinity (no limit) */
  connections?: number;
  /** Requests pipelined on one connection; `1` is plain keep-alive, `0` disables keep-alive. @default 1 */
  pipelining?: number;
  /** How long an idle connection stays open for reuse, in ms. @default 4000 */
  keepAliveTimeoutMs?: number;
  /** Deadline to establish a connection (TCP and TLS), in ms; past it, `TimeoutError` phase `connect`. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Deadline for the final response head, in ms, from the moment the request is sent: informational
   * `1xx` answers do not restart it (a server dripping `102 Processing` is timed out). `0` disables
   * it. Past it, `TimeoutError` phase `headers`. @default 300000
   */
  headersTimeoutMs?: number;
  /** Longest pause between two body chunks, in ms; `0` disables it. Past it, `TimeoutError` phase `body`. @default 300000 */
  bodyTimeoutMs?: number;
  /**
   * Fail with `ResponseTooLargeError` past this many decoded body bytes, for bodies read whole and
   * streamed alike; a call's `maxResponseBytes` overrides it. `Infinity` means no limit.
   * @default 33554432 (32 MiB, `DEFAULT_MAX_BUFFERED_BYTES`) for a body read whole, no limit for a stream (`readBody: false`)
   */
  maxResponseBytes?: number;
  /**
   * How long `close()` waits for calls still in flight (a silent server included) to finish before
   * it destroys the connections; the calls cut off reject with `TransportError` `ERR_TRANSPORT_CLOSED`.
   * @default 10000
   */
  closeTimeoutMs?: number;
  /**
   * The proxy: `'env'` reads `http_proxy`/`HTTP_PROXY`, `https_proxy`/`HTTPS_PROXY` and
   * `no_proxy`/`NO_PROXY` at creation (lower case first, as curl does), a URL sends every request
   * through that proxy (credentials may be in it), `false` never uses one. HTTP targets go to the
   * proxy in absolute form, HTTPS targets through a `CONNECT` tunnel. With `'env'` and no proxy
   * variable set, the transport uses a plain Agent, exactly as without this option.
   * @default 'env'
   */
  proxy?: 'env' | string | URL | false;
  /**
   * Proxy credentials, sent as `Proxy-Authorization` to the proxy only (never to the target):
   * `{ username, password }` for Basic, or the whole header value (e.g. `'Bearer …'`).
   * @default the credentials in the proxy URL, if any
   */
  proxyAuth?:
    | {
        /** The proxy user name, for Basic auth. */
        username: string;
        /** The proxy password, for Basic auth. */
        password: string;
      }
    | string;
  /**
   * TLS options for connections to the targets (through a proxy too): a private `ca`, a client
   * certificate (`cert`, `key`, `passphrase`) for mTLS, `servername` (SNI), `minVersion`, and
   * `rejectUnauthorized: false`, which disables certificate checks and warns once.
   * @default Node's defaults (the system CAs, certificates checked, TLS ≥ 1.2)
   */
  tls?: UndiciTlsOptions;
  /** Offer HTTP/2 over TLS (ALPN): used when the server accepts it, HTTP/1.1 otherwise. @default false */
  allowH2?: boolean;
  /** Where the one warning of `tls.rejectUnauthorized: false` goes. @default process.emitWarning */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * TLS options of {@link undiciTransport} (node:tls names and meanings).
 * @example
 * const tls: UndiciTlsOptions = { ca: readFileSync('partner-ca.pem'), cert, key, minVersion: 'TLSv1.3' };
 */
export type UndiciTlsOptions = Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'passphrase' | 'servername' | 'rejectUnauthorized' | 'minVersion'
>;

/**
 * `res.raw` of a response from the undici transport: undici's own `ResponseData`, plus
 * `httpVersion`, the protocol the response came over (`'1.1'` or `'2'`). `httpVersion` is absent
 * when the transport cannot know it: a `dispatcher` passed in, or `allowH2` through a proxy.
 * @example
 * const res = await client.get('/');
 * console.log((res.raw as UndiciResponseData).httpVersion); // '2' with allowH2 on an h2 server
 */
export type UndiciResponseData = Dispatcher.ResponseData & {
  /** The protocol the response came over; absent when the transport cannot know it. */
  httpVersion?: '1.1' | '2';
};

/** The defaults of {@link UndiciTransportOptions} (undici's own, made explicit). */
export const DEFAULT_UNDICI_TRANSPORT_OPTIONS = {
  /** @see UndiciTransportOptions.connections */
  connections: Number.POSITIVE_INFINITY,
  /** @see UndiciTransportOptions.pipelining */
  pipelining: 1,
  /** @see UndiciTransportOptions.keepAliveTimeoutMs */
  keepAliveTimeoutMs: 4_000,
  /** @see UndiciTransportOptions.connectTimeoutMs */
  connectTimeoutMs: 10_000,
  /** @see UndiciTransportOptions.headersTimeoutMs */
  headersTimeoutMs: 300_000,
  /** @see UndiciTransportOptions.bodyTimeoutMs */
  bodyTimeoutMs: 300_000,
  /** @see UndiciTransportOptions.closeTimeoutMs */
  closeTimeoutMs: 10_000,
  /** @see UndiciTransportOptions.proxy */
  proxy: 'env',
  /** @see UndiciTransportOptions.allowH2 */
  allowH2: false,
} as const;

/** A transport on undici; `dispatcher` is the Agent (or the dispatcher passed in). */
export type UndiciTransport = Transport & {
  /** The undici `Agent` the transport created, or the dispatcher passed in. */
  readonly dispatcher: Dispatcher;
};

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** Whether the environment names a proxy, read the way undici's EnvHttpProxyAgent reads it. */
function envProxySet(): boolean {
  const env = process.env;
  return Boolean((env.http_proxy ?? env.HTTP_PROXY) || (env.https_proxy ?? env.HTTPS_PROXY));
}

/** PEM material as node:tls takes it: a string, bytes, or an array of those. */
function pem(what: string): OptionCheck<string | Buffer | (string | Buffer)[] | undefined> {
  const isPem = (value: unknown) => typeof value === 'string' || value instanceof Uint8Array;
  return (value, name) => {
    if (value === undefined) return undefined;
    if (isPem(value) || (Array.isArray(value) && value.length > 0 && value.every(isPem))) {
      return value as string | Buffer | (string | Buffer)[];
    }
    throw new ConfigError(
      name,
      value,
      `expected ${what}: a PEM string, a Buffer or an array of them`,
    );
  };
}

const TLS_SPEC = {
  ca: pem('CA certificates'),
  cert: pem('a client certificate chain'),
  key: option.secret(pem('a private key')),
  passphrase: option.secret(option.string()),
  servername: option.string(),
  rejectUnauthorized: option.boolean(),
  minVersion: option.oneOf(TLS_VERSIONS),
} satisfies OptionSpec<UndiciTlsOptions>;

/** `'env'`, `false`, or an http(s) proxy URL (the value may hold credentials: never quoted). */
const proxyCheck: OptionCheck<'env' | false | URL> = option.secret((value, name) => {
  if (value === undefined || value === 'env') return 'env';
  if (value === false) return false;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' || value instanceof URL ? new URL(value) : undefined;
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(name, undefined, "expected 'env', false or an http:// or https:// URL");
  }
  return url;
});

/** The whole Proxy-Authorization value of `proxyAuth` (a credential: never quoted). */
const proxyAuthCheck: OptionCheck<string | undefined> = option.secret((value, name) => {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.keys(value).length === 2 &&
    Object.hasOwn(value, 'username') &&
    Object.hasOwn(value, 'password') &&
    typeof (value as { username: unknown }).username === 'string' &&
    typeof (value as { password: unknown }).password === 'string'
  ) {
    const { username, password } = value as { username: string; password: string };
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  throw new ConfigError(
    name,
    undefined,
    'expected { username, password } strings or a non-empty Proxy-Authorization value',
  );
});

const dispatcherCheck: OptionCheck<Dispatcher | undefined> = (value, name) => {
  if (value === undefined) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Dispatcher).request !== 'function'
  ) {
    throw new ConfigError(name, value, 'expected an undici Dispatcher (Agent, Pool, ProxyAgent…)');
  }
  return value as Dispatcher;
};

const D = DEFAULT_UNDICI_TRANSPORT_OPTIONS;

/** Every option of {@link UndiciTransportOptions}, checked by core's options kit. */
const UNDICI_SPEC = {
  dispatcher: dispatcherCheck,
  connections: option.integer({ min: 1, infinity: true, default: D.connections }),
  pipelining: option.integer({ min: 0, default: D.pipelining }),
  keepAliveTimeoutMs: option.ms({ min: 1, default: D.keepAliveTimeoutMs }),
  connectTimeoutMs: option.ms({ default: D.connectTimeoutMs }),
  headersTimeoutMs: option.ms({ default: D.headersTimeoutMs }),
  bodyTimeoutMs: option.ms({ default: D.bodyTimeoutMs }),
  closeTimeoutMs: option.ms({ default: D.closeTimeoutMs }),
  maxResponseBytes: option.integer<undefined>({ infinity: true }),
  proxy: proxyCheck,
  proxyAuth: proxyAuthCheck,
  tls: option.object(TLS_SPEC, 'undiciTransport({ tls })'),
  allowH2: option.boolean(D.allowH2),
  logger: option.logger<Pick<Logger, 'warn'>>(['warn']),
} satisfies OptionSpec<UndiciTransportOptions>;

type ResolvedUndiciOptions = Omit<ResolvedOptions<typeof UNDICI_SPEC>, 'proxy' | 'tls'> & {
  /** `undefined`: no proxy; `'env'`: the proxy variables (at least one is set). */
  proxy: URL | 'env' | undefined;
  /** Only the TLS options given: an `undefined` must never override Node's defaults. */
  tls: UndiciTlsOptions;
};

/** Options that configure the connections the transport owns; a dispatcher passed in has its own. */
const CONNECTION_OPTIONS = [
  'connections',
  'pipelining',
  'keepAliveTimeoutMs',
  'connectTimeoutMs',
  'proxy',
  'proxyAuth',
  'tls',
  'allowH2',
] as const;

/** Validates and fills {@link UndiciTransportOptions} once, at creation. */
function resolveUndiciOptions(options: unknown): ResolvedUndiciOptions {
  const read = readOptions('undiciTransport()', options, UNDICI_SPEC);
  const given = (name: string) =>
    Object.hasOwn(options as object, name) &&
    (options as Record<string, unknown>)[name] !== undefined;
  if (read.dispatcher !== undefined) {
    const conflict = CONNECTION_OPTIONS.find(given);
    if (conflict) {
      const value = (options as Record<string, unknown>)[conflict];
      throw new ConfigError(
        conflict,
        // A proxy URL, proxyAuth and TLS keys may hold credentials; counts and flags do not.
        typeof value === 'number' || typeof value === 'boolean' ? value : REDACTED,
        'configures the transport-owned connections; set it on the dispatcher you pass instead',
      );
    }
  }
  // With a dispatcher passed in, none of the connection options apply (refused above).
  let proxy: URL | 'env' | undefined =
    read.proxy === false || read.dispatcher !== undefined ? undefined : read.proxy;
  if (proxy === 'env' && !envProxySet()) proxy = undefined;
  if (read.proxyAuth !== undefined) {
    if (read.proxy === false) {
      throw new ConfigError('proxyAuth', REDACTED, 'needs a proxy; proxy is false');
    }
    if (proxy instanceof URL && (proxy.username || proxy.password)) {
      throw new ConfigError(
        'proxyAuth',
        REDACTED,
        'give credentials in the proxy URL or in proxyAuth, not both',
      );
    }
  }
  const { cert, key } = read.tls;
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      cert === undefined ? 'tls.cert' : 'tls.key',
      undefined,
      'a client certificate needs both cert and key',
    );
  }
  return {
    ...read,
    proxy,
    // undefined fields are dropped so that they never override Node's defaults.
    tls: Object.fromEntries(
      Object.entries(read.tls).filter(([, value]) => value !== undefined),
    ) as UndiciTlsOptions,
  };
}

const noop = () => {};

/**
 * The signal undici gets for one call: the call's scope, plus the headers deadline that undici cannot
 * keep itself (its headers timer restarts on every 1xx, so a server dripping `102 Processing` would
 * hold the call forever). undici reads `aborted`, `reason` and the two listener methods only; the
 * deadline's timer starts at the first 1xx (HTTP/1.1) or at once (HTTP/2, whose 1xx undici hides).
 */
class HeadDeadline {
  readonly #parent: AbortLike;
  #listener: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reason: TimeoutError | undefined;

  constructor(parent: AbortLike) {
    this.#parent = parent;
  }

  get aborted(): boolean {
    return this.#reason !== undefined || this.#parent.aborted;
  }

  get reason(): unknown {
    return this.#reason ?? this.#parent.reason;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listener = listener;
    this.#parent.addEventListener('abort', listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#listener = undefined;
    this.#parent.removeEventListener('abort', listener);
  }

  /** Fails the call with `timeout()` after `ms`, unless {@link stop} comes first. */
  start(ms: number, timeout: () => TimeoutError): void {
    this.#timer ??= setTimeout(
      () => {
        this.#reason = timeout();
        this.#listener?.();
      },
      Math.max(0, ms),
    );
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || status < 200;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const value = raw[name];
    if (typeof value === 'string') headers.append(name, value);
    else if (value !== undefined) for (const item of value) headers.append(name, item);
  }
  return headers;
}

function contentLength(raw: Record<string, string | string[] | undefined>): number | undefined {
  const value = raw['content-length'];
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * The undici transport: sends each request with `request()` on a keep-alive undici `Agent` that it
 * owns and closes on `client.close()` (a `dispatcher` passed in is used and never closed). Redirects
 * come back to core, which follows them; `gzip`, `deflate` and `br` bodies are decoded and counted
 * against `maxResponseBytes`. An unread body (`readBody: false`) dropped with `discard()` is drained
 * when small and destroyed when large. The Agent is shared by every call of every client built on
 * this transport; reach it as `client.transport.dispatcher`.
 *
 * Options (all optional): `dispatcher`, `connections` (Infinity), `pipelining` (1),
 * `keepAliveTimeoutMs` (4000), `connectTimeoutMs` (10000), `headersTimeoutMs` (300000),
 * `bodyTimeoutMs` (300000), `maxResponseBytes` (Infinity), `proxy` ('env': HTTP_PROXY, HTTPS_PROXY,
 * NO_PROXY; the plain Agent when none is set), `proxyAuth`, `tls` (ca, cert, key, passphrase,
 * servername, rejectUnauthorized, minVersion), `allowH2` (false), `logger`. Invalid values throw
 * `ConfigError`. `res.raw` is undici's `ResponseData` plus `httpVersion` ('1.1' or '2').
 * @example
 * // Through a corporate proxy, to a partner that wants a client certificate, over HTTP/2 when offered:
 * undiciTransport({
 *   proxy: 'http://proxy.internal:3128',
 *   tls: { ca: partnerCa, cert: clientCert, key: clientKey },
 *   allowH2: true,
 * });
 * @example
 * import { createClient } from '@extapi/core';
 * import { undiciTransport } from '@extapi/backend-undici';
 *
 * const client = createClient([undiciTransport({ connections: 50, maxResponseBytes: 10 * 1024 * 1024 })], {
 *   baseUrl: 'https://api.partner.example/v1',
 * });
 * const res = await client.get('/items/42');
 * console.log(res.status, await res.json());
 * await client.close();
 */
export function undiciTransport(options?: UndiciTransportOptions): UndiciTransport {
  const resolved = resolveUndiciOptions(options);
  const owned = resolved.dispatcher === undefined;
  warnIfInsecure(resolved);
  const connections = owned ? createDispatcher(resolved) : undefined;
  const dispatcher: Dispatcher = resolved.dispatcher ?? connections!.dispatcher;
  // With a dispatcher passed in, the timeouts the user gave travel with each request instead.
  const givenTimeouts = (['headersTimeoutMs', 'bodyTimeoutMs'] as const).some(
    (name) => Object.hasOwn(options ?? {}, name) && options?.[name] !== undefined,
  );
  const perRequestTimeouts = !owned && givenTimeouts;
  // The head deadline is kept by the transport only when it knows its length (see HeadDeadline).
  const headersTimeoutMs = owned || givenTimeouts ? resolved.headersTimeoutMs : 0;
  // ProxyAgent copies request headers with object spread, which sees nothing of a WHATWG Headers:
  // proxied (and foreign) dispatchers get a plain record. The plain Agent takes Headers as they are.
  const proxied = resolved.proxy !== undefined;
  const plainHeaders = !owned || proxied;
  const httpVersionOf = connections?.httpVersionOf;

  // Calls whose response is not yet complete (head awaited, or a body still to read), so that
  // close() waits for them only, and for at most closeTimeoutMs.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  const settle = () => {
    if (--inFlight === 0) onIdle?.();
  };

  async function undici(ctx: Context): Promise<HttpResponse> {
    inFlight++;
    let streaming = false;
    try {
      const response = await send(ctx);
      const stream = response.body;
      if (stream !== null && !stream.destroyed) {
        streaming = true;
        stream.once('close', settle);
      }
      return response;
    } finally {
      if (!streaming) settle();
    }
  }

  /**
   * Closes the owned dispatcher: calls in flight may finish for closeTimeoutMs, then the
   * connections are destroyed (a call waiting on a silent server would keep close() pending
   * forever). undici's Agent forgets its pools on close(), so a destroy() after it reaches none of
   * them: the transport waits first, then either closes or destroys.
   */
  function close(): Promise<void> {
    const idle =
      inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, resolved.closeTimeoutMs);
            onIdle = () => {
              clearTimeout(timer);
              resolve();
            };
          });
    return idle.then(() => (inFlight === 0 ? dispatcher.close() : dispatcher.destroy()));
  }

  async function send(ctx: Context): Promise<HttpResponse> {
    const { method, url, headers, body } = ctx.request;
    if (proxied && headers.has('proxy-authorization')) {
      // A per-request value would reach a NO_PROXY target as it is: credentials go in the options.
      throw new ExtapiError(
        'Proxy-Authorization cannot be set per request; give the proxy credentials in the proxy URL or proxyAuth',
        'ERR_INVALID_REQUEST',
        { method, url, attempt: ctx.attempt },
      );
    }
    // No prototype: undici reads every request option (body, query…) through the prototype chain,
    // so a polluted Object.prototype.body would otherwise be sent with every GET.
    const request: Dispatcher.RequestOptions = Object.assign(Object.create(null), {
      origin: url.origin,
      path: url.pathname + url.search,
      method: method as Dispatcher.HttpMethod,
      // undici iterates a WHATWG Headers as [name, value] pairs itself: no conversion here.
      headers: (plainHeaders
        ? Object.fromEntries(headers)
        : headers) as unknown as Dispatcher.RequestOptions['headers'],
    });
    let deadline: HeadDeadline | undefined;
    if (headersTimeoutMs > 0) {
      const started = performance.now();
      const headTimeout = () =>
        new TimeoutError(headersTimeoutMs, {
          method,
          url,
          attempt: ctx.attempt,
          phase: 'headers',
        });
      const head = new HeadDeadline(ctx.scope);
      request.signal = head as unknown as AbortSignal;
      request.onInfo = () =>
        head.start(headersTimeoutMs - (performance.now() - started), headTimeout);
      if (resolved.allowH2) head.start(headersTimeoutMs, headTimeout);
      deadline = head;
    } else if (ctx.scope.canAbort) {
      // undici takes any object with aborted, reason and the two listener methods: the scope
      // itself, so no AbortController is made. One that can never abort is not passed at all.
      request.signal = ctx.scope as unknown as AbortSignal;
    }
    if (body instanceof FormData && !(body instanceof UndiciFormData)) {
      // undici 7 encodes only its own FormData class (Node 20's global one comes from its bundled
      // undici 6), so the global one is encoded here, with a length, and its boundary in content-type.
      const encoded = new Response(body);
      const copy = new Headers(headers);
      if (!copy.has('content-type')) copy.set('content-type', encoded.headers.get('content-type')!);
      request.headers = (plainHeaders
        ? Object.fromEntries(copy)
        : copy) as unknown as Dispatcher.RequestOptions['headers'];
      request.body = requestBody(ctx, Buffer.from(await encoded.arrayBuffer()));
    } else if (body !== undefined) {
      request.body = requestBody(ctx, body);
      if (resolved.allowH2 && !PAYLOAD_METHODS.has(method)) request.body = h2Body(request.body);
    }
    if (perRequestTimeouts) {
      request.headersTimeout = resolved.headersTimeoutMs;
      request.bodyTimeout = resolved.bodyTimeoutMs;
    }

    let data: Dispatcher.ResponseData;
    try {
      data = await dispatcher.request(request);
    } catch (error) {
      throw mapUndiciError(error, ctx, resolved);
    } finally {
      deadline?.stop();
    }
    if (httpVersionOf) (data as UndiciResponseData).httpVersion = httpVersionOf(url.origin);
    const { statusCode: status, body: stream } = data;
    const raw = data.headers as Record<string, string | string[] | undefined>;
    const init: ResponseInit = {
      status,
      statusText: (data as { statusText?: string }).statusText || STATUS_CODES[status] || '',
      // Built on first access: most calls never look at the response headers.
      headers: () => toHeaders(raw),
      url: url.href,
      method,
      raw: data,
      body: null,
    };
    if (hasNoBody(method, status)) {
      // undici ends these bodies itself; dump() just settles the stream without waiting on anything.
      stream.dump().catch(noop);
      return createResponse(init);
    }
    const length = contentLength(raw);
    if (isDiscardedRedirect(ctx, status, raw.location)) {
      // The redirect step throws this body away: released as it is, never decoded, limited or reported.
      init.body = stream.on('error', noop);
      init.discard = (unread) => discardStream(unread, length);
      return createResponse(init);
    }

    const maxBytes = responseLimit(ctx, resolved.maxResponseBytes);
    const onProgress = ctx.onDownloadProgress;
    let codings: string[] | undefined;
    try {
      const encoding = raw['content-encoding'];
      codings = contentCodings(Array.isArray(encoding) ? encoding.join(', ') : (encoding ?? null));
    } catch (error) {
      stream.on('error', noop).destroy();
      throw error;
    }
    if (
      ctx.readBody &&
      !codings &&
      !onProgress &&
      (maxBytes === undefined || (length !== undefined && length <= maxBytes))
    ) {
      // The fast path: nothing to decode or report, and a length within the limit (undici stops an
      // HTTP/1.1 body at its content-length), so undici collects the chunks itself.
      let bytes: Uint8Array;
      try {
        bytes = await stream.bytes();
      } catch (error) {
        throw mapUndiciError(error, ctx, resolved);
      }
      // An HTTP/2 stream reset mid-body (NO_ERROR, CANCEL) ends it early and silently in undici.
      if (length !== undefined && bytes.byteLength !== length) {
        throw lengthMismatch(length, bytes.byteLength, { method, url, attempt: ctx.attempt });
      }
      init.body = bytes;
      return createResponse(init);
    }

    if (maxBytes !== undefined && !codings && length !== undefined && length > maxBytes) {
      // Known too large before a byte of it is read: do not download it.
      stream.on('error', noop).destroy();
      throw new ResponseTooLargeError(maxBytes, { method, url, attempt: ctx.attempt });
    }
    const mapError = (error: unknown) => mapUndiciError(error, ctx, resolved);
    let wire: Readable = stream;
    if (codings && length !== undefined && (data as UndiciResponseData).httpVersion !== '1.1') {
      // Over HTTP/2 (or an unknown protocol) undici does not hold an encoded body to its length.
      wire = limitStream(stream, { expectedBytes: length, mapError, method, url: url.href });
    }
    const limits = {
      maxBytes,
      totalBytes: codings ? undefined : length,
      expectedBytes: codings ? undefined : length,
      onProgress,
      mapError,
      method,
      url: url.href,
    };
    if (ctx.readBody) {
      try {
        init.body = await readBody(codings ? decodeStream(wire, codings) : wire, limits);
        return createResponse(init);
      } catch (error) {
        stream.on('error', noop).destroy();
        throw mapError(error);
      }
    }

    // Always wrapped, so that a body failing while it is read (a reset, corrupt gzip) rejects with
    // extapi's errors (TransportError ECONNRESET…), as fetch's does, never with undici's own.
    const out = limitStream(codings ? decodeStream(wire, codings) : wire, limits);
    // A body nobody reads may still fail (reset, abort); that must never be an unhandled 'error'.
    out.on('error', noop);
    init.body = out;
    init.discard = (unread) => discardStream(unread, length);
    return createResponse(init);
  }

  return defineTransport(undici, {
    name: 'undici',
    close: owned ? close : () => Promise.resolve(),
    extra: { dispatcher },
  });
}

/** The dispatcher the transport owns, and how to tell the protocol of a response when it can. */
interface OwnedConnections {
  dispatcher: Dispatcher;
  httpVersionOf: ((origin: string) => '1.1' | '2') | undefined;
}

const HTTP_1_1 = () => '1.1' as const;

/** Builds the Agent, ProxyAgent or EnvHttpProxyAgent that `resolved` asks for. */
function createDispatcher(resolved: ResolvedUndiciOptions): OwnedConnections {
  const agentOptions: Agent.Options = {
    connections: resolved.connections === Infinity ? null : resolved.connections,
    pipelining: resolved.pipelining,
    keepAliveTimeout: resolved.keepAliveTimeoutMs,
    headersTimeout: resolved.headersTimeoutMs,
    bodyTimeout: resolved.bodyTimeoutMs,
  };
  if (resolved.allowH2) agentOptions.allowH2 = true;
  const connect = { timeout: resolved.connectTimeoutMs, ...resolved.tls };
  const { proxy } = resolved;
  if (proxy === undefined) {
    if (!resolved.allowH2) {
      return { dispatcher: new Agent({ ...agentOptions, connect }), httpVersionOf: HTTP_1_1 };
    }
    // ALPN picks the protocol per connection and undici does not say which one a response used;
    // a server answers ALPN alike on every connection, so the choice is kept per origin.
    const h2Origins = new Map<string, boolean>();
    const connector = buildConnector({ ...connect, allowH2: true });
    const tracking: buildConnector.connector = (opts, callback) =>
      connector(opts, (...args) => {
        const socket = args[1] as TLSSocket | null;
        if (socket) h2Origins.set(`${opts.protocol}//${opts.host}`, socket.alpnProtocol === 'h2');
        callback(...args);
      });
    return {
      dispatcher: new Agent({ ...agentOptions, connect: tracking }),
      httpVersionOf: (origin) => (h2Origins.get(origin) ? '2' : '1.1'),
    };
  }
  const proxyOptions = {
    ...agentOptions,
    // curl's way: plain HTTP goes to the proxy in absolute form; HTTPS always tunnels (CONNECT).
    proxyTunnel: false,
    requestTls: connect,
    proxyTls: { timeout: resolved.connectTimeoutMs },
    ...(resolved.proxyAuth === undefined ? {} : { token: resolved.proxyAuth }),
  };
  // Through a tunnel the connector is undici's own: the protocol is known only without allowH2.
  const httpVersionOf = resolved.allowH2 ? undefined : HTTP_1_1;
  if (proxy === 'env') {
    // `connect` applies to the hosts NO_PROXY sends straight to the target.
    return { dispatcher: new EnvHttpProxyAgent({ ...proxyOptions, connect }), httpVersionOf };
  }
  return { dispatcher: new ProxyAgent({ ...proxyOptions, uri: proxy.href }), httpVersionOf };
}

let warnedInsecure = false;

/** `rejectUnauthorized: false` accepts any certificate: say so once, loudly, never silently. */
function warnIfInsecure(resolved: ResolvedUndiciOptions): void {
  if (resolved.tls.rejectUnauthorized !== false) return;
  const message =
    'undiciTransport: tls.rejectUnauthorized is false, so server certificates are not checked ' +
    '(anyone on the path can read and change the traffic); give tls.ca instead';
  if (resolved.logger) resolved.logger.warn({ option: 'tls.rejectUnauthorized' }, message);
  else if (!warnedInsecure) {
    warnedInsecure = true;
    process.emitWarning(message, { code: 'EXTAPI_TLS_INSECURE' });
  }
}

/** The methods undici's HTTP/2 client computes a content-length for. */
const PAYLOAD_METHODS = new Set(['PUT', 'POST', 'PATCH']);

/**
 * undici 7's HTTP/2 client asserts that a buffer or Blob body has a content-length, yet computes
 * none for methods other than PUT, POST and PATCH (a DELETE with a body fails): an iterable needs none.
 */
function h2Body(body: Dispatcher.RequestOptions['body']): Dispatcher.RequestOptions['body'] {
  if (typeof body === 'string') return [Buffer.from(body)] as unknown as Readable;
  if (body instanceof Uint8Array) return [body] as unknown as Readable;
  if (body instanceof Blob) return body.stream() as unknown as Dispatcher.RequestOptions['body'];
  return body;
}

/** The body in a form undici sends as it is; only bodies it cannot take are converted. */
function requestBody(
  ctx: Context,
  body: NonNullable<Context['request']['body']>,
): Dispatcher.RequestOptions['body'] {
  // strings, bytes, Readable, FormData, Blob and (async) iterables, web ReadableStream included, go as they are.
  let out = (
    typeof body === 'string' && ctx.onUploadProgress
      ? Buffer.from(body)
      : body instanceof ArrayBuffer
        ? Buffer.from(body)
        : body
  ) as Dispatcher.RequestOptions['body'];
  if (ctx.onUploadProgress && !(body instanceof FormData)) {
    // Progress needs to see each chunk; FormData is encoded by undici itself, so it reports none.
    const total = bodyLength(body);
    const source =
      typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer
        ? [out as Uint8Array]
        : body instanceof Blob
          ? (body.stream() as unknown as AsyncIterable<Uint8Array>)
          : (out as AsyncIterable<Uint8Array>);
    out = withProgress(source, total, ctx.onUploadProgress) as unknown as Readable;
  }
  return out;
}
