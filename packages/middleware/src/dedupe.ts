// dedupe(): identical concurrent GET/HEAD calls share one request; each caller gets its own response.
// Belongs once per call, above retry() (the shared call retries once for everyone) and above a cache.
import {
  AbortScope,
  type Context,
  createResponse,
  defineMiddleware,
  type HttpResponse,
  isSensitiveHeader,
  type Middleware,
  type Next,
  option,
  type OptionSpec,
  peekHeaders,
  readOptions,
} from '@extapi/core';

const DEDUPE_PLACEMENT = {
  name: 'dedupe',
  placement: {
    per: 'call' as const,
    outside: ['cache'],
    reason:
      'below retry() every attempt would be shared separately, and above it the one shared call retries once for everyone; above cache() a burst of misses makes one lookup and one store',
  },
};

/** What makes calls identical: a key string, or `undefined` for a call sent on its own. */
export type DedupeKey = (ctx: Context) => string | undefined;

/** Options of {@link dedupe}. */
export interface DedupeOptions {
  /**
   * What makes two calls identical, besides their method (always part of the key): a string, or
   * `undefined` to send this call on its own. The values of credential headers (`Authorization`,
   * `Cookie`, `X-Api-Key`, the client's `sensitiveHeaders`…) are always added to what it returns,
   * so calls made with different credentials never share a response.
   * @default {@link defaultDedupeKey}: the URL, every request header as it reaches dedupe(), the
   * redirect policy and `maxResponseBytes` of the call
   */
  key?: DedupeKey;
}

/**
 * The default key of {@link dedupe}: the URL, every request header (names and values, in the
 * sorted order `Headers` iterates), the redirect policy and `maxResponseBytes` of the call.
 * @example
 * dedupe({ key: (ctx) => `${defaultDedupeKey(ctx)}\n${ctx.meta.tenant}` });
 */
export function defaultDedupeKey(ctx: Context): string {
  const call = ctx.call;
  let key = `${ctx.request.url.href}\n${call.redirect} ${call.maxRedirects} ${ctx.maxResponseBytes ?? ''}`;
  for (const [name, value] of peekHeaders(ctx.request)) key += `\n${name}: ${value}`;
  return key;
}

/** The defaults of {@link dedupe}. */
export const DEFAULT_DEDUPE_OPTIONS: Readonly<Required<DedupeOptions>> = Object.freeze({
  key: defaultDedupeKey,
});

const DEDUPE_SPEC = {
  key: option.fn<DedupeKey, DedupeKey>(DEFAULT_DEDUPE_OPTIONS.key),
} satisfies OptionSpec<DedupeOptions>;

/**
 * Validates {@link DedupeOptions} once (own properties only, unknown ones refused with the nearest
 * known name); throws `ConfigError` naming the option and the value.
 * @example
 * resolveDedupeOptions({}).key === defaultDedupeKey; // true
 */
export function resolveDedupeOptions(options?: DedupeOptions): Required<DedupeOptions> {
  return readOptions('dedupe()', options, DEDUPE_SPEC);
}

/** The credential headers of a request, for a user's key (the default key has every header). */
function credentials(ctx: Context): string {
  let part = '';
  for (const [name, value] of peekHeaders(ctx.request)) {
    if (isSensitiveHeader(name, ctx.sensitiveHeaders)) part += `\n${name}: ${value}`;
  }
  return part;
}

/** One request in flight and the callers waiting for it. */
interface Flight {
  /** The cancellation of the shared request: aborted when every caller has left. */
  readonly scope: AbortScope;
  /** The shared response, its body buffered. */
  promise: Promise<HttpResponse>;
  /** Callers still waiting. */
  waiting: number;
  /** Callers that joined; one alone gets the response itself. */
  joined: number;
  /** The shared body, once settled with more than one caller; the first caller takes it as is. */
  bytes: Uint8Array | undefined;
  /** Whether a caller took `bytes` itself (the others get copies). */
  handed: boolean;
  settled: boolean;
}

// Functions of the module, not closures: tsup's keepNames would name a closure on every call.

/** Ends a flight: removed before any caller resumes, so a call made after it starts afresh. */
function settle(flights: Map<string, Flight>, id: string, flight: Flight): void {
  flight.settled = true;
  if (flights.get(id) === flight) flights.delete(id);
  flight.scope.dispose();
}

/** A response of its own for one caller of a shared flight: the same fields, its own body bytes. */
function handOut(flight: Flight, shared: HttpResponse): HttpResponse {
  const bytes = flight.bytes;
  if (bytes === undefined) return shared; // a caller alone
  const first = !flight.handed;
  flight.handed = true;
  return createResponse({
    status: shared.status,
    statusText: shared.statusText,
    // A function: most callers never read the headers, and each that does gets its own copy.
    headers: () => new Headers(shared.headers),
    url: shared.url,
    method: shared.method,
    // new Uint8Array(), not slice(): a Buffer's slice() is a view of the same memory.
    body: first ? bytes : new Uint8Array(bytes),
    raw: shared.raw,
  });
}

/**
 * Identical concurrent `GET` and `HEAD` calls share one request to the partner. Each caller gets a
 * response object of its own with its own copy of the body (the shared body is buffered once);
 * errors (an `HttpStatusError` from `expectStatus()`, a refused connection) reach every caller as
 * the same error instance, which callers should treat as read-only. A call that starts after the
 * shared request settled sends a new one: this is not a cache.
 *
 * Identical means the same method and the same key: by default the URL, every request header as
 * it reaches `dedupe()` (so two calls with a different `Authorization` never share), the redirect
 * policy and `maxResponseBytes`; or `key(ctx)`, to which the credential headers are always added.
 *
 * Cancellation: a caller that aborts (its signal, its deadline) leaves alone, with its own reason;
 * the shared request is aborted only when every caller has left. The shared request runs under a
 * cancellation scope of its own, with no deadline: it lasts as long as its longest-waiting caller.
 * It is a clone of the first caller's context, so that call's `ctx.state`, `ctx.meta` and
 * `ctx.call` are the ones the layers below see.
 *
 * Passes through untouched (one method check, nothing allocated): other methods, streamed calls
 * (`readBody: false`: a stream can be read once), calls with `onDownloadProgress`, and calls for
 * which `key` returns `undefined`.
 *
 * Place it once per call: before `retry()`, so the one shared call is retried once for everyone,
 * and before `cache()`. State: the map of flights in progress is shared by every call through this
 * middleware instance (one per `dedupe()`); it is empty when nothing is in flight.
 * @example
 * createClient([dedupe(), retry(), expectStatus(), undiciTransport()]);
 * // 100 concurrent client.get('/config') calls → one request, 100 responses
 */
export function dedupe(options?: DedupeOptions): Middleware {
  const { key } = resolveDedupeOptions(options);
  // The default key holds every header already; a user's key gets the credential headers added.
  const withCredentials = key !== defaultDedupeKey;
  const flights = new Map<string, Flight>();
  // The parent of every shared request's scope: a root that can abort (so its children can) but
  // never does. One controller per dedupe(), none per request.
  const anchor = new AbortScope(undefined, 0, undefined, new AbortController().signal);

  function keyOf(ctx: Context): string | undefined {
    const own = key(ctx);
    if (own === undefined) return undefined;
    return `${ctx.request.method} ${own}${withCredentials ? credentials(ctx) : ''}`;
  }

  function start(id: string, ctx: Context, next: Next): Flight {
    const scope = anchor.child();
    const flight: Flight = {
      scope,
      promise: undefined as never,
      waiting: 0,
      joined: 0,
      bytes: undefined,
      handed: false,
      settled: false,
    };
    let sent: Promise<HttpResponse>;
    try {
      sent = next(ctx.clone({ scope }));
    } catch (error) {
      sent = Promise.reject(error);
    }
    flight.promise = sent.then(
      (res) => {
        // A caller alone takes the response as it is (the usual case: no copy, no extra turn);
        // with company, or an unread body from a layer below, the body is read once for everyone.
        if (res.bodyRead && flight.joined === 1) {
          settle(flights, id, flight);
          return res;
        }
        return res.bytes().then(
          (bytes) => {
            settle(flights, id, flight);
            if (flight.joined > 1) flight.bytes = bytes;
            return res;
          },
          (error: unknown) => {
            settle(flights, id, flight);
            return res.discard().then(() => Promise.reject(error));
          },
        );
      },
      (error: unknown) => {
        settle(flights, id, flight);
        throw error;
      },
    );
    flights.set(id, flight);
    return flight;
  }

  function leave(flight: Flight, id: string, reason: unknown): void {
    if (--flight.waiting > 0 || flight.settled) return;
    if (flights.get(id) === flight) flights.delete(id);
    flight.scope.abort(reason);
  }

  function join(ctx: Context, flight: Flight, id: string): Promise<HttpResponse> {
    flight.waiting++;
    flight.joined++;
    // Callers join before the flight settles (it leaves the map then), so `joined` is final when
    // handOut runs.
    const scope = ctx.scope;
    if (!scope.canAbort) return flight.promise.then((res) => handOut(flight, res));
    return new Promise<HttpResponse>((resolve, reject) => {
      let left = false;
      const off = scope.onAbort((reason) => {
        left = true;
        reject(reason);
        leave(flight, id, reason);
      });
      flight.promise.then(
        (res) => {
          off();
          if (!left) resolve(handOut(flight, res));
        },
        (error: unknown) => {
          off();
          if (!left) reject(error);
        },
      );
    });
  }

  const middleware = function dedupe(ctx: Context, next: Next): Promise<HttpResponse> {
    const method = ctx.request.method;
    if ((method !== 'GET' && method !== 'HEAD') || !ctx.readBody || ctx.onDownloadProgress) {
      return next(ctx);
    }
    // An aborted caller joins nothing and starts nothing.
    if (ctx.scope.aborted) return Promise.reject(ctx.scope.reason);
    const id = keyOf(ctx);
    if (id === undefined) return next(ctx);
    return join(ctx, flights.get(id) ?? start(id, ctx, next), id);
  };
  return defineMiddleware(middleware, DEDUPE_PLACEMENT);
}
