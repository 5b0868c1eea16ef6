// The options of fetchTransport(): the fetch it calls, what it reads of a Response, the defaults and
// their checks (core's options kit), read once at creation. transport.ts calls fetch with them.
import {
  ConfigError,
  type OptionCheck,
  type OptionSpec,
  option,
  REDACTED,
  readOptions,
} from '@extapi/core';

/**
 * The `fetch` the transport calls: `globalThis.fetch`, undici's `fetch`, or any function of that
 * shape. `init` is loosely typed because every implementation types its own `RequestInit`.
 * @example
 * const logged: FetchFunction = (url, init) => {
 *   console.log(init.method, url);
 *   return globalThis.fetch(url, init);
 * };
 */
// biome-ignore lint/suspicious/noExplicitAny: each fetch implementation has its own RequestInit type
export type FetchFunction = (input: string, init: any) => Promise<FetchResponse>;

/**
 * What the transport reads of a fetch `Response`: Node's, undici's and most others fit. `body` must
 * be a web `ReadableStream` of bytes (or `null`); `headers` must iterate as `[name, value]` pairs.
 * @example
 * const canned: FetchFunction = async () => new Response('{"ok":true}', { status: 200 });
 */
export interface FetchResponse {
  /** The HTTP status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly statusText: string;
  /** The response headers, as `[name, value]` pairs. */
  readonly headers: Iterable<[string, string]>;
  /** The body as a web `ReadableStream` of bytes, or `null` for none. */
  readonly body: object | null;
  /** Reads the whole body at once (used when there is no limit or progress to track). */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The response type; `'opaqueredirect'` is a redirect a browser hides (an error here). */
  readonly type?: string;
}

/**
 * Options of {@link fetchTransport}. Every field is optional; `undefined` means the default.
 * @example
 * const options: FetchTransportOptions = { maxResponseBytes: 10 * 1024 * 1024, init: { keepalive: true } };
 */
export interface FetchTransportOptions {
  /** The fetch to call, e.g. undici's `fetch` or an instrumented wrapper. @default globalThis.fetch (read at creation) */
  fetch?: FetchFunction;
  /**
   * Fail with `ResponseTooLargeError` once the decoded body passes this many bytes, for bodies read
   * whole and streamed alike. A request's own `maxResponseBytes` overrides it; `Infinity` means no limit.
   * @default 33554432 (32 MiB, `DEFAULT_MAX_BUFFERED_BYTES`) for a body read whole, no limit for a stream (`readBody: false`)
   */
  maxResponseBytes?: number;
  /**
   * Deadline for the final response head, in ms, from the moment fetch is called: informational
   * `1xx` answers do not restart it (the deadline of fetch's own dispatcher does). `0` disables it.
   * Past it, `TimeoutError` phase `headers`. It gives fetch a signal to follow, which costs about a
   * fifth of a call's CPU on Node's fetch (bench/README.md); a call that can be aborted anyway
   * (`timeoutMs`, `timeout()`, a caller's `signal`) pays for that signal with or without it.
   * @default 300000
   */
  headersTimeoutMs?: number;
  /**
   * Extra `RequestInit` fields for every call, such as undici's `dispatcher`. The transport's own fields
   * (`method`, `headers`, `body`, `signal`, `redirect`, `duplex`) are set per call and cannot be given here.
   * @default {}
   */
  init?: RequestInit & Record<string, unknown>;
}

/**
 * The defaults of {@link FetchTransportOptions}; `fetch` is `globalThis.fetch` as found at creation.
 * @example
 * fetchTransport({ headersTimeoutMs: DEFAULT_FETCH_TRANSPORT_OPTIONS.headersTimeoutMs / 10 });
 */
export const DEFAULT_FETCH_TRANSPORT_OPTIONS: Readonly<{
  /** @see FetchTransportOptions.fetch */
  fetch: FetchFunction | undefined;
  /** @see FetchTransportOptions.maxResponseBytes (`undefined`: 32 MiB buffered, streams unlimited) */
  maxResponseBytes: number | undefined;
  /** @see FetchTransportOptions.headersTimeoutMs */
  headersTimeoutMs: number;
  /** @see FetchTransportOptions.init */
  init: Readonly<Record<string, unknown>>;
}> = Object.freeze({
  fetch: undefined,
  maxResponseBytes: undefined,
  headersTimeoutMs: 300_000,
  init: Object.freeze({}),
});

/** {@link FetchTransportOptions} validated and filled by {@link resolveFetchTransportOptions}. */
export interface ResolvedFetchTransportOptions {
  /** The fetch function to call. */
  fetch: FetchFunction;
  /** The transport-level body limit in bytes; `undefined`: the default rule of `responseLimit`. */
  maxResponseBytes: number | undefined;
  /** The deadline for the final response head in ms; `0` for none. */
  headersTimeoutMs: number;
  /** Extra `RequestInit` fields for every call. */
  init: Record<string, unknown>;
}

/** Options of undiciTransport that fetch has no way to honour (they belong to a dispatcher). */
const UNDICI_ONLY_OPTIONS = ['tls', 'proxy', 'proxyAuth', 'allowH2'];

/** Fields the transport sets on every call; giving them in `init` would be silently overridden. */
const OWN_INIT_FIELDS = ['method', 'headers', 'body', 'signal', 'redirect', 'duplex'];

const initCheck: OptionCheck<Record<string, unknown>> = (value, name) => {
  if (value === undefined) return { ...DEFAULT_FETCH_TRANSPORT_OPTIONS.init };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(name, value, 'expected a RequestInit object');
  }
  for (const field of OWN_INIT_FIELDS) {
    if (Object.hasOwn(value, field) && (value as Record<string, unknown>)[field] !== undefined) {
      throw new ConfigError(
        `${name}.${field}`,
        // headers may carry credentials: never quoted.
        field === 'headers' ? REDACTED : (value as Record<string, unknown>)[field],
        'set per call by the transport (headers and redirects belong to createClient)',
      );
    }
  }
  // Own fields only: a polluted Object.prototype must not reach fetch.
  return { ...value };
};

/** Every option of {@link FetchTransportOptions}, checked by core's options kit. */
const FETCH_SPEC = {
  fetch: option.fn<FetchFunction>(),
  maxResponseBytes: option.integer<undefined>({ infinity: true }),
  headersTimeoutMs: option.ms({ default: DEFAULT_FETCH_TRANSPORT_OPTIONS.headersTimeoutMs }),
  init: initCheck,
} satisfies OptionSpec<FetchTransportOptions>;

/**
 * Validates and fills {@link FetchTransportOptions} once, at creation; throws `ConfigError` naming
 * the option and the value (never a credential's), and for an unknown option the nearest known one.
 * @example
 * resolveFetchTransportOptions({ maxResponseBytes: -1 }); // ConfigError: Invalid option maxResponseBytes: -1 (…)
 */
export function resolveFetchTransportOptions(
  options?: FetchTransportOptions,
): ResolvedFetchTransportOptions {
  if (options !== null && typeof options === 'object') {
    for (const name of UNDICI_ONLY_OPTIONS) {
      if (Object.hasOwn(options, name)) {
        // fetch has no such options: silently ignoring a CA, a client certificate or a proxy would
        // only fail later and less clearly, so point at the way that works instead. The value may
        // hold credentials (a proxy URL, proxyAuth, a key): never quoted.
        throw new ConfigError(
          name,
          REDACTED,
          "fetch takes no connection options; pass undici's fetch with init: { dispatcher: new Agent(…) " +
            'or new ProxyAgent(…) } (see the README), or use undiciTransport',
        );
      }
    }
  }
  const read = readOptions('fetchTransport()', options, FETCH_SPEC);
  const fetch = read.fetch ?? DEFAULT_FETCH_TRANSPORT_OPTIONS.fetch ?? globalThis.fetch;
  if (typeof fetch !== 'function') {
    throw new ConfigError(
      'fetch',
      undefined,
      'expected a fetch function (globalThis.fetch is missing)',
    );
  }
  return { ...read, fetch: fetch as FetchFunction };
}
