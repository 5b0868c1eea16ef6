// The options of undiciTransport(): their types, defaults and checks (core's options kit), read
// once at creation. transport.ts sends with them; dispatcher.ts builds the connections they describe.
import type { ConnectionOptions } from 'node:tls';
import {
  ConfigError,
  type Logger,
  type OptionCheck,
  type OptionSpec,
  option,
  REDACTED,
  type ResolvedOptions,
  readOptions,
} from '@extapi/core';
import type { Dispatcher } from 'undici';

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

export type ResolvedUndiciOptions = Omit<ResolvedOptions<typeof UNDICI_SPEC>, 'proxy' | 'tls'> & {
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
export function resolveUndiciOptions(options: unknown): ResolvedUndiciOptions {
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
