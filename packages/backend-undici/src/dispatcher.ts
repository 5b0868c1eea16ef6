// The connections of undiciTransport(): the Agent, ProxyAgent or EnvHttpProxyAgent it owns, and the
// head deadline undici cannot keep itself. transport.ts sends each request through them.
import type { TLSSocket } from 'node:tls';
import type { AbortLike, TimeoutError } from '@extapi/core';
import { Agent, buildConnector, type Dispatcher, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import type { ResolvedUndiciOptions } from './options.js';

/**
 * The signal undici gets for one call: the call's scope, plus the headers deadline that undici cannot
 * keep itself (its headers timer restarts on every 1xx, so a server dripping `102 Processing` would
 * hold the call forever). undici reads `aborted`, `reason` and the two listener methods only; the
 * deadline's timer starts at the first 1xx (HTTP/1.1) or at once (HTTP/2, whose 1xx undici hides).
 */
export class HeadDeadline {
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
