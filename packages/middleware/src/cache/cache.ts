// cache(): a private HTTP cache (RFC 9111, with RFC 5861's stale-while-revalidate and
// stale-if-error) in memory or in Redis. Place it before retry(): a hit skips retries and limits.
import {
  AbortScope,
  type Context,
  defineMiddleware,
  errorMessage,
  type HttpResponse,
  isHttpStatusError,
  type Middleware,
  type Next,
  TimeoutError,
} from '@extapi/core';
import { type CacheOptions, type CacheStoreOperation, resolveCacheOptions } from './options.js';
import {
  allowsAuthenticated,
  type CachePolicy,
  forbidsStale,
  policyClass,
  policyOptions,
  requestHeaderRecord,
  responseHeaderRecord,
  storedRequestHeaders,
} from './policy.js';
import { redisStore } from './redis-store.js';
import {
  type CacheStatus,
  fromEntry,
  hasConditional,
  isServerFailure,
  mark,
  SAFE,
} from './respond.js';
import { type CacheEntry, memoryStore } from './store.js';

/** The middleware `cache()` returns. */
export interface CacheMiddleware extends Middleware {
  /** Resolves once every background refresh started so far has ended. */
  settled(): Promise<void>;
  /** Waits for background refreshes, then closes the store the cache created (a store or client passed in is left open). */
  close(): Promise<void>;
}

const CACHE_PLACEMENT = {
  name: 'cache',
  placement: {
    per: 'call' as const,
    reason:
      'a hit must skip retries and limits, and a stored response must be the one retry settled on',
  },
};

type PolicyRequest = CachePolicy.Request & { headers: CachePolicy.Headers };

/**
 * A private HTTP cache (RFC 9111) for GET and HEAD, built on `http-cache-semantics` (an optional
 * peer dependency: `npm install http-cache-semantics`). Freshness from `Cache-Control` `max-age`,
 * `Expires`, `Date` and `Age`; `no-store`, `no-cache`, `private`, `must-revalidate`, `Vary`;
 * heuristic freshness only with `heuristic`. A stale entry with `ETag` / `Last-Modified` is
 * revalidated with `If-None-Match` / `If-Modified-Since`; a 304 refreshes its headers and the
 * caller gets the stored body as the original status. `stale-while-revalidate` serves the stale
 * entry and refreshes it once in the background (one refresh per key at a time);
 * `stale-if-error` serves it when the partner fails (5xx, `TransportError`, `TimeoutError`,
 * `CircuitOpenError`). A successful POST, PUT, PATCH or DELETE invalidates the stored GET of its
 * URL. Every answer says how in the `x-extapi-cache` header (`HIT`,
 * `REVALIDATED`, `STALE`, `MISS`).
 *
 * Never stored: a response to a request with `Authorization` unless it says `public` or
 * `s-maxage` (or you give `key`, which must then include the credential's identity); a body over
 * `maxEntryBytes`; a streamed body (`readBody: false`). Only the latest `Vary` variant of a URL
 * is kept. A HEAD is answered from a stored GET; HEAD responses are not stored. A failing store
 * is a miss (reported once per outage through `logger`, or a process warning), never an error.
 *
 * State: the store (shared by every call through this instance, or by the fleet with `redis`);
 * each response returned is a fresh `HttpResponse` with its own copy of the body.
 * Position: before `retry()` (a hit then skips retries, limits and auth).
 * @example
 * import { cache } from '@extapi/middleware/cache';
 * const client = createClient([cache(), retry(), rateLimit({ limit: 10, windowMs: 1000 }), undiciTransport()]);
 * const res = await client.get('https://api.example/items/1');
 * res.headers.get('x-extapi-cache'); // 'MISS', then 'HIT' while fresh
 */
export function cache(options: CacheOptions = {}): CacheMiddleware {
  const o = resolveCacheOptions(options);
  const store =
    o.store ??
    (o.redis !== undefined
      ? redisStore({ redis: o.redis, id: o.id, redisTimeoutMs: o.redisTimeoutMs })
      : memoryStore());
  const ownsStore = o.store === undefined;
  const Policy = policyClass(o.now);
  const policyOpts = policyOptions(o.heuristic);
  const refreshing = new Map<string, Promise<void>>();
  let failing = false;

  function storeFailed(error: unknown, operation: CacheStoreOperation): void {
    try {
      o.onStoreError?.(error, operation);
    } catch {
      // The hook's own failure must not fail the call either.
    }
    if (failing) return;
    failing = true;
    const message = `cache(): the store failed (${operation}: ${errorMessage(error)}); calls go on as misses`;
    if (o.logger) o.logger.warn({ operation }, message);
    else process.emitWarning(message, { type: 'ExtapiWarning', code: 'EXTAPI_CACHE_STORE' });
  }

  async function read(key: string): Promise<CacheEntry | undefined> {
    try {
      const entry = await store.get(key);
      failing = false;
      return entry;
    } catch (error) {
      storeFailed(error, 'get');
      return undefined;
    }
  }

  async function write(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    try {
      await store.set(key, entry, ttlMs);
      failing = false;
    } catch (error) {
      storeFailed(error, 'set');
    }
  }

  /** Stores `response` when the rules allow, and hands it on marked `status`. */
  async function keep(
    key: string,
    request: PolicyRequest,
    response: HttpResponse,
    status: CacheStatus,
  ): Promise<HttpResponse> {
    const headers = responseHeaderRecord(response.headers);
    const vary = response.headers.get('vary');
    const policy = new Policy(
      { ...request, headers: storedRequestHeaders(request.headers, vary) },
      { status: response.status, headers },
      policyOpts,
    );
    if (
      !policy.storable() ||
      // RFC 9111 §3.5, applied to this private cache too: a credential's response stays its own.
      (request.headers.authorization !== undefined &&
        o.key === undefined &&
        !allowsAuthenticated(response.headers.get('cache-control'))) ||
      // A streamed body is the caller's to read: it is not buffered to be stored.
      !response.bodyRead
    ) {
      return mark(response, status);
    }
    const body = await response.bytes();
    let ttlMs = policy.timeToLive();
    if (headers.etag !== undefined || headers['last-modified'] !== undefined)
      ttlMs += o.keepStaleMs;
    if (body.byteLength <= o.maxEntryBytes && ttlMs > 0) {
      const entry = {
        policy: policy.toObject(),
        status: response.status,
        statusText: response.statusText,
        url: response.url,
        body: new Uint8Array(body),
      };
      await write(key, entry, ttlMs);
    }
    return mark(response, status);
  }

  /** After a failure: the stored response if the rules let it stand in (stale-if-error), else undefined. */
  function standIn(
    request: PolicyRequest,
    policy: CachePolicy,
    failedStatus: number | undefined,
  ): CachePolicy.Headers | undefined {
    const headers = policy.responseHeaders();
    if (forbidsStale(headers['cache-control'])) return undefined;
    try {
      const failed = failedStatus === undefined ? undefined : { status: failedStatus, headers: {} };
      // The library answers "not modified" only within stale-if-error (RFC 5861 §4).
      const { modified } = policy.revalidatedPolicy(request, failed as CachePolicy.Response);
      return modified ? undefined : headers;
    } catch {
      return undefined;
    }
  }

  /** Sends the request, conditional on the stored validators, and settles what the caller gets. */
  async function refresh(
    ctx: Context,
    next: Next,
    key: string,
    request: PolicyRequest,
    entry: CacheEntry,
    policy: CachePolicy,
    conditional: CachePolicy.Headers,
  ): Promise<HttpResponse> {
    const attempt = ctx.clone();
    for (const name of ['if-none-match', 'if-modified-since']) {
      const value = conditional[name];
      if (typeof value === 'string') attempt.request.headers.set(name, value);
    }
    let response: HttpResponse;
    try {
      response = await next(attempt);
    } catch (error) {
      if (ctx.scope.aborted || !isServerFailure(error)) throw error;
      const status = isHttpStatusError(error) ? error.status : undefined;
      const headers = standIn(request, policy, status);
      if (headers === undefined) throw error;
      if (isHttpStatusError(error)) await error.response.discard();
      return fromEntry(ctx, entry, headers, 'STALE');
    }
    if (response.status >= 500) {
      const headers = standIn(request, policy, response.status);
      if (headers === undefined) return mark(response, 'MISS');
      await response.discard();
      return fromEntry(ctx, entry, headers, 'STALE');
    }
    if (response.status !== 304) return keep(key, request, response, 'MISS');
    const revalidated = policy.revalidatedPolicy(request, {
      status: 304,
      headers: responseHeaderRecord(response.headers),
    });
    // The 304's body (none) is dropped so its connection goes back to the pool.
    await response.discard();
    if (!revalidated.matches) {
      // A 304 for validators we did not send: ask again without them (RFC 9111 §4.3.4).
      return keep(key, request, await next(ctx.clone()), 'MISS');
    }
    const updated = revalidated.policy;
    const refreshed = { ...entry, policy: updated.toObject() };
    const ttlMs = updated.timeToLive() + o.keepStaleMs;
    if (ttlMs > 0) await write(key, refreshed, ttlMs);
    return fromEntry(ctx, refreshed, updated.responseHeaders(), 'REVALIDATED');
  }

  function refreshInBackground(
    ctx: Context,
    next: Next,
    key: string,
    request: PolicyRequest,
    entry: CacheEntry,
    policy: CachePolicy,
    conditional: CachePolicy.Headers,
  ): void {
    // One refresh per key at a time (RFC 5861 §3 asks for one, not one per caller).
    if (refreshing.has(key)) return;
    const ms = o.refreshTimeoutMs;
    // Its own scope: the caller's call ends now, and its abort or deadline must not cut the refresh.
    const scope = new AbortScope(
      undefined,
      ms,
      () => new TimeoutError(ms, { phase: 'middleware' }),
    );
    const job = refresh(ctx.clone({ scope }), next, key, request, entry, policy, conditional)
      .then((response) => response.discard())
      .catch(() => {})
      .finally(() => {
        scope.dispose();
        refreshing.delete(key);
      });
    refreshing.set(key, job);
  }

  async function lookup(ctx: Context, next: Next, base: string): Promise<HttpResponse> {
    const method = ctx.request.method;
    const head = method === 'HEAD';
    // A HEAD is answered from the stored GET (RFC 9110 §9.3.2): both use the GET's key.
    const key = `${head ? 'GET' : method} ${base}`;
    const request: PolicyRequest = {
      url: ctx.request.url.href,
      method: head ? 'GET' : method,
      headers: requestHeaderRecord(ctx),
    };
    const entry = await read(key);
    if (entry === undefined) return head ? next(ctx) : keep(key, request, await next(ctx), 'MISS');
    let policy: CachePolicy;
    try {
      policy = Policy.fromObject(entry.policy as CachePolicy.CachePolicyObject);
    } catch {
      return head ? next(ctx) : keep(key, request, await next(ctx), 'MISS');
    }
    const { response, revalidation } = policy.evaluateRequest(request);
    if (response !== undefined) {
      if (revalidation === undefined) return fromEntry(ctx, entry, response.headers, 'HIT');
      if (!revalidation.synchronous) {
        if (!head)
          refreshInBackground(ctx, next, key, request, entry, policy, revalidation.headers);
        return fromEntry(ctx, entry, response.headers, 'STALE');
      }
    }
    if (head) return next(ctx);
    return refresh(ctx, next, key, request, entry, policy, revalidation?.headers ?? {});
  }

  /**
   * RFC 9111 §4.4: a successful unsafe request (POST, PUT, PATCH, DELETE…) invalidates what is
   * stored for its URL, so the next GET asks the partner.
   */
  async function invalidate(url: string, response: HttpResponse): Promise<HttpResponse> {
    if (response.status < 400) {
      try {
        await store.delete(`GET ${url}`);
      } catch (error) {
        storeFailed(error, 'delete');
      }
    }
    return response;
  }

  // Not async: a call the cache leaves alone (a conditional request) costs no frame.
  const middleware = function cache(ctx: Context, next: Next): Promise<HttpResponse> {
    const { method, headers } = ctx.request;
    let base: string | undefined;
    if (o.key !== undefined) base = o.key(ctx);
    else if (method === 'GET' || method === 'HEAD') base = ctx.request.url.href;
    else if (!SAFE.has(method)) {
      const url = ctx.request.url.href;
      return next(ctx).then((response) => invalidate(url, response));
    }
    // The caller's own conditional or range request is theirs to answer: it passes untouched.
    if (base === undefined || hasConditional(headers)) return next(ctx);
    return lookup(ctx, next, base);
  };

  return Object.assign(defineMiddleware(middleware, CACHE_PLACEMENT), {
    async settled() {
      while (refreshing.size > 0) await Promise.allSettled([...refreshing.values()]);
    },
    async close() {
      while (refreshing.size > 0) await Promise.allSettled([...refreshing.values()]);
      if (ownsStore) await store.close?.();
    },
  });
}
