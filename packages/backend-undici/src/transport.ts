// undiciTransport(): the terminal of a stack, sending each request with undici's request() on a
// keep-alive Agent. It never follows redirects (core does) and decodes and limits bodies like core says.
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { finished } from 'node:stream/promises';
import {
  bodyLength,
  ConfigError,
  type Context,
  contentCodings,
  createResponse,
  decodeStream,
  defineTransport,
  ExtapiError,
  type HttpResponse,
  limitStream,
  type Logger,
  NEVER_ABORT,
  ResponseTooLargeError,
  type ResponseInit,
  readBody,
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
import { mapUndiciError, type UndiciTimeouts } from './map-error.js';

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
  /** Deadline for the response headers, in ms; `0` disables it. Past it, `TimeoutError` phase `headers`. @default 300000 */
  headersTimeoutMs?: number;
  /** Longest pause between two body chunks, in ms; `0` disables it. Past it, `TimeoutError` phase `body`. @default 300000 */
  bodyTimeoutMs?: number;
  /** Fail with `ResponseTooLargeError` past this many decoded body bytes; a call's `maxResponseBytes` overrides it. @default Infinity */
  maxResponseBytes?: number;
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
  /** @see UndiciTransportOptions.maxResponseBytes */
  maxResponseBytes: Number.POSITIVE_INFINITY,
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

interface ResolvedUndiciOptions extends UndiciTimeouts {
  dispatcher: Dispatcher | undefined;
  connections: number;
  pipelining: number;
  keepAliveTimeoutMs: number;
  maxResponseBytes: number | undefined;
  /** `undefined`: no proxy; `'env'`: the proxy variables (at least one is set). */
  proxy: URL | 'env' | undefined;
  /** The whole Proxy-Authorization value, when `proxyAuth` gives one. */
  proxyToken: string | undefined;
  tls: UndiciTlsOptions;
  allowH2: boolean;
  logger: Pick<Logger, 'warn'> | undefined;
}

const TLS_OPTIONS = [
  'ca',
  'cert',
  'key',
  'passphrase',
  'servername',
  'rejectUnauthorized',
  'minVersion',
] as const;
const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Whether the environment names a proxy, read the way undici's EnvHttpProxyAgent reads it. */
function envProxySet(): boolean {
  const env = process.env;
  return Boolean((env.http_proxy ?? env.HTTP_PROXY) || (env.https_proxy ?? env.HTTPS_PROXY));
}

function resolveProxy(options: UndiciTransportOptions): URL | 'env' | undefined {
  const proxy =
    options.proxy === undefined ? DEFAULT_UNDICI_TRANSPORT_OPTIONS.proxy : options.proxy;
  if (proxy === false) return undefined;
  if (proxy === 'env') return envProxySet() ? 'env' : undefined;
  let url: URL | undefined;
  try {
    url = typeof proxy === 'string' || proxy instanceof URL ? new URL(proxy) : undefined;
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError('proxy', proxy, "expected 'env', false or an http:// or https:// URL");
  }
  return url;
}

function resolveProxyToken(
  options: UndiciTransportOptions,
  proxy: URL | 'env' | undefined,
): string | undefined {
  const auth = options.proxyAuth;
  if (auth === undefined) return undefined;
  if (options.proxy === false) {
    throw new ConfigError('proxyAuth', '[redacted]', 'needs a proxy; proxy is false');
  }
  if (proxy instanceof URL && (proxy.username || proxy.password)) {
    throw new ConfigError(
      'proxyAuth',
      '[redacted]',
      'give credentials in the proxy URL or in proxyAuth, not both',
    );
  }
  if (typeof auth === 'string' && auth.trim() !== '') return auth;
  if (
    auth !== null &&
    typeof auth === 'object' &&
    typeof auth.username === 'string' &&
    typeof auth.password === 'string'
  ) {
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }
  // The value is a secret: the error names the option and the shape, never the value.
  throw new ConfigError(
    'proxyAuth',
    typeof auth === 'object' ? '[redacted object]' : typeof auth,
    'expected { username, password } strings or a non-empty Proxy-Authorization value',
  );
}

function resolveTls(options: UndiciTransportOptions): UndiciTlsOptions {
  const tls = options.tls;
  if (tls === undefined) return {};
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) {
    throw new ConfigError('tls', tls, 'expected an object of TLS options');
  }
  for (const key of Object.keys(tls)) {
    if (!(TLS_OPTIONS as readonly string[]).includes(key)) {
      throw new ConfigError(`tls.${key}`, '[value]', `expected one of ${TLS_OPTIONS.join(', ')}`);
    }
  }
  const { rejectUnauthorized, minVersion, servername, cert, key } = tls;
  if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== 'boolean') {
    throw new ConfigError('tls.rejectUnauthorized', rejectUnauthorized, 'expected a boolean');
  }
  if (minVersion !== undefined && !TLS_VERSIONS.includes(minVersion)) {
    throw new ConfigError(
      'tls.minVersion',
      minVersion,
      `expected one of ${TLS_VERSIONS.join(', ')}`,
    );
  }
  if (servername !== undefined && (typeof servername !== 'string' || servername === '')) {
    throw new ConfigError('tls.servername', servername, 'expected a non-empty host name');
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      cert === undefined ? 'tls.cert' : 'tls.key',
      undefined,
      'a client certificate needs both cert and key',
    );
  }
  // undefined fields are dropped so that they never override Node's defaults.
  return Object.fromEntries(Object.entries(tls).filter(([, value]) => value !== undefined));
}

const AGENT_OPTIONS = [
  'connections',
  'pipelining',
  'keepAliveTimeoutMs',
  'connectTimeoutMs',
] as const;

type NumericOption = {
  [K in keyof typeof DEFAULT_UNDICI_TRANSPORT_OPTIONS]: (typeof DEFAULT_UNDICI_TRANSPORT_OPTIONS)[K] extends number
    ? K
    : never;
}[keyof typeof DEFAULT_UNDICI_TRANSPORT_OPTIONS];

function integer(
  options: UndiciTransportOptions,
  name: NumericOption,
  min: number,
  infinite = false,
): number {
  const value = options[name];
  if (value === undefined) return DEFAULT_UNDICI_TRANSPORT_OPTIONS[name];
  if (
    typeof value !== 'number' ||
    value < min ||
    !(Number.isSafeInteger(value) || (infinite && value === Infinity))
  ) {
    throw new ConfigError(
      name,
      value,
      `expected an integer >= ${min}${infinite ? ' or Infinity' : ''}`,
    );
  }
  return value;
}

/** Validates and fills {@link UndiciTransportOptions} once, at creation. */
function resolveUndiciOptions(options: UndiciTransportOptions = {}): ResolvedUndiciOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('options', options, 'expected an object');
  }
  const { dispatcher } = options;
  if (dispatcher !== undefined) {
    if (
      dispatcher === null ||
      typeof dispatcher !== 'object' ||
      typeof dispatcher.request !== 'function'
    ) {
      throw new ConfigError(
        'dispatcher',
        dispatcher,
        'expected an undici Dispatcher (Agent, Pool, ProxyAgent…)',
      );
    }
    const conflict = AGENT_OPTIONS.find((name) => options[name] !== undefined);
    const ownsConnections = (['proxy', 'proxyAuth', 'tls', 'allowH2'] as const).find(
      (name) => options[name] !== undefined,
    );
    if (ownsConnections) {
      throw new ConfigError(
        ownsConnections,
        ownsConnections === 'proxyAuth' ? '[redacted]' : options[ownsConnections],
        'configures the transport-owned connections; set it on the dispatcher you pass instead',
      );
    }
    if (conflict) {
      throw new ConfigError(
        conflict,
        options[conflict],
        'configures the transport-owned Agent; set it on the dispatcher you pass instead',
      );
    }
  }
  const maxResponseBytes = integer(options, 'maxResponseBytes', 0, true);
  const allowH2 = options.allowH2 ?? DEFAULT_UNDICI_TRANSPORT_OPTIONS.allowH2;
  if (typeof allowH2 !== 'boolean') throw new ConfigError('allowH2', allowH2, 'expected a boolean');
  const { logger } = options;
  if (logger !== undefined && (logger === null || typeof logger.warn !== 'function')) {
    throw new ConfigError('logger', logger, 'expected a logger with a warn(obj, msg) method');
  }
  // With a dispatcher passed in, none of the connection options apply (refused above).
  const proxy = dispatcher === undefined ? resolveProxy(options) : undefined;
  return {
    proxy,
    proxyToken: resolveProxyToken(options, proxy),
    tls: resolveTls(options),
    allowH2,
    logger,
    dispatcher,
    connections: integer(options, 'connections', 1, true),
    pipelining: integer(options, 'pipelining', 0),
    keepAliveTimeoutMs: integer(options, 'keepAliveTimeoutMs', 1),
    connectTimeoutMs: integer(options, 'connectTimeoutMs', 0),
    headersTimeoutMs: integer(options, 'headersTimeoutMs', 0),
    bodyTimeoutMs: integer(options, 'bodyTimeoutMs', 0),
    maxResponseBytes: maxResponseBytes === Infinity ? undefined : maxResponseBytes,
  };
}

// Bodies up to this size are read to the end on discard() so the connection is reused; larger or
// endless ones are destroyed, which costs a new connection but never a long download.
const DRAIN_LIMIT = 64 * 1024;
// A small body whose server stalls is not waited for until bodyTimeoutMs: it is destroyed after this.
const DRAIN_TIMEOUT_MS = 1_000;

const noop = () => {};

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
export function undiciTransport(given?: UndiciTransportOptions): UndiciTransport {
  // Own properties only: a polluted Object.prototype (proxy, dispatcher…) must change nothing.
  const options: UndiciTransportOptions | undefined =
    given === undefined || (given !== null && typeof given === 'object')
      ? Object.assign(Object.create(null), given)
      : given;
  const resolved = resolveUndiciOptions(options);
  const owned = resolved.dispatcher === undefined;
  warnIfInsecure(resolved);
  const connections = owned ? createDispatcher(resolved) : undefined;
  const dispatcher: Dispatcher = resolved.dispatcher ?? connections!.dispatcher;
  // With a dispatcher passed in, the timeouts the user gave travel with each request instead.
  const perRequestTimeouts =
    !owned && (options?.headersTimeoutMs !== undefined || options?.bodyTimeoutMs !== undefined);
  // ProxyAgent copies request headers with object spread, which sees nothing of a WHATWG Headers:
  // proxied (and foreign) dispatchers get a plain record. The plain Agent takes Headers as they are.
  const proxied = resolved.proxy !== undefined;
  const plainHeaders = !owned || proxied;
  const httpVersionOf = connections?.httpVersionOf;

  async function undici(ctx: Context): Promise<HttpResponse> {
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
    // A signal that can never abort is not worth undici's listener bookkeeping.
    if (ctx.signal !== NEVER_ABORT) request.signal = ctx.signal;
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

    const maxBytes = ctx.maxResponseBytes ?? resolved.maxResponseBytes;
    const onProgress = ctx.onDownloadProgress;
    let codings: string[] | undefined;
    try {
      const encoding = raw['content-encoding'];
      codings = contentCodings(Array.isArray(encoding) ? encoding.join(', ') : (encoding ?? null));
    } catch (error) {
      stream.on('error', noop).destroy();
      throw error;
    }
    if (ctx.readBody && !codings && maxBytes === undefined && !onProgress) {
      // The fast path: nothing to decode, count or report, so undici collects the chunks itself.
      try {
        init.body = await stream.bytes();
      } catch (error) {
        throw mapUndiciError(error, ctx, resolved);
      }
      return createResponse(init);
    }

    const length = contentLength(raw);
    if (maxBytes !== undefined && !codings && length !== undefined && length > maxBytes) {
      // Known too large before a byte of it is read: do not download it.
      stream.on('error', noop).destroy();
      throw new ResponseTooLargeError(maxBytes, { method, url, attempt: ctx.attempt });
    }

    if (ctx.readBody) {
      try {
        init.body = await readBody(codings ? decodeStream(stream, codings) : stream, {
          maxBytes,
          totalBytes: codings ? undefined : length,
          onProgress,
          method,
          url: url.href,
        });
        return createResponse(init);
      } catch (error) {
        stream.on('error', noop).destroy();
        throw mapUndiciError(error, ctx, resolved);
      }
    }

    let out: Readable = codings ? decodeStream(stream, codings) : stream;
    if (maxBytes !== undefined || onProgress) {
      out = limitStream(out, {
        maxBytes,
        totalBytes: codings ? undefined : length,
        onProgress,
        method,
        url: url.href,
      });
    }
    // A body nobody reads may still fail (reset, abort); that must never be an unhandled 'error'.
    out.on('error', noop);
    init.body = out;
    init.discard = out === stream ? dumpBody : (decoded) => drainOrDestroy(decoded, length);
    return createResponse(init);
  }

  return defineTransport(undici, {
    name: 'undici',
    close: owned ? () => dispatcher.close().then(noop) : () => Promise.resolve(),
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
    ...(resolved.proxyToken === undefined ? {} : { token: resolved.proxyToken }),
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

/** Releases an undecoded undici body: read to the end when small and prompt, else destroyed. */
function dumpBody(stream: Readable): Promise<void> {
  return (stream as Dispatcher.ResponseData['body'])
    .dump({ limit: DRAIN_LIMIT, signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) })
    .then(noop, noop);
}

/** Releases a decoded or limited body: drained when the wire body is small and known, else destroyed. */
function drainOrDestroy(stream: Readable, length: number | undefined): Promise<void> {
  if (length === undefined || length > DRAIN_LIMIT) {
    stream.destroy();
    return Promise.resolve();
  }
  const timer = setTimeout(() => stream.destroy(), DRAIN_TIMEOUT_MS);
  stream.resume();
  return finished(stream)
    .then(noop, noop)
    .finally(() => clearTimeout(timer));
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
