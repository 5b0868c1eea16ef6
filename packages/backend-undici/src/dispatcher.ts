// The connections of undiciTransport(): the Agent, ProxyAgent or EnvHttpProxyAgent it owns, and one
// request's options with the head deadline undici cannot keep itself. transport.ts sends each request through them.
import type { TLSSocket } from 'node:tls';
import { type AbortScope, type Context, requestUrl, TimeoutError } from '@extapi/core';
import { Agent, buildConnector, type Dispatcher, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import type { ResolvedUndiciOptions } from './options.js';

/**
 * undici's options for one request, one object per call with a fixed shape. Its prototype chain ends
 * in null: undici reads every option it knows (body, query…) through the chain, so a polluted
 * `Object.prototype.body` would otherwise be sent with every GET. The last fields are the transport's
 * own, for the head deadline (kept by the call's handler, see handler.ts).
 */
export class WireRequest {
  origin: string;
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Dispatcher.RequestOptions['headers'];
  body: Dispatcher.RequestOptions['body'] = undefined;
  headersTimeout: number | undefined = undefined;
  bodyTimeout: number | undefined = undefined;
  /** The call, for the fields of a head-deadline TimeoutError. */
  readonly ctx: Context;
  /** The head deadline in ms; 0 for none. */
  headMs = 0;
  /** When the request was handed to undici (`performance.now()`). */
  started = 0;
  /** The head deadline's timer, armed by the first 1xx. */
  headTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** HTTP/2: the child scope that keeps the head deadline from the start. */
  h2Head: AbortScope | undefined = undefined;

  constructor(ctx: Context, headers: Dispatcher.RequestOptions['headers']) {
    this.ctx = ctx;
    // Core's text of the URL: most calls' never became a URL object.
    const { origin, path } = requestUrl(ctx.request);
    this.origin = origin;
    this.path = path;
    this.method = ctx.request.method as Dispatcher.HttpMethod;
    this.headers = headers;
  }

  /** Keeps a head deadline of `ms` from now, armed by the first 1xx (see handler.ts). */
  watchHead(ms: number): void {
    this.headMs = ms;
    this.started = performance.now();
  }
}
Object.setPrototypeOf(WireRequest.prototype, null);

/** The TimeoutError of a request whose head did not come within its deadline. */
export function headTimeout(request: WireRequest): TimeoutError {
  const { ctx } = request;
  return new TimeoutError(request.headMs, {
    method: ctx.request.method,
    url: ctx.request.url,
    attempt: ctx.attempt,
    phase: 'headers',
  });
}

/** The dispatcher the transport owns, and how to tell the protocol of a response when it can. */
export interface OwnedConnections {
  dispatcher: Dispatcher;
  httpVersionOf: ((origin: string) => '1.1' | '2') | undefined;
}

const HTTP_1_1 = () => '1.1' as const;

/** Builds the Agent, ProxyAgent or EnvHttpProxyAgent that `resolved` asks for. */
export function createDispatcher(resolved: ResolvedUndiciOptions): OwnedConnections {
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
export function warnIfInsecure(resolved: ResolvedUndiciOptions): void {
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
