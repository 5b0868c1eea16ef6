// cache(): a private HTTP cache (RFC 9111, with RFC 5861's stale-while-revalidate and
// stale-if-error) in memory or in Redis. Place it before retry(): a hit skips retries and limits.
import {
  type Context,
  defineMiddleware,
  type HttpResponse,
  type Middleware,
  type Next,
} from '@extapi/core';
import { failSoftStore } from './fail-soft-store.js';
import { type CacheOptions, resolveCacheOptions } from './options.js';
import {
  type CachePolicy,
  type PolicyRequest,
  policyClass,
  requestHeaderRecord,
} from './policy.js';
import { redisStore } from './redis-store.js';
import { refresher } from './refresh.js';
import { fromEntry, hasConditional, SAFE } from './respond.js';
import { memoryStore } from './store.js';

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
  const { read, write, remove } = failSoftStore(store, o);
  const { keep, refresh, refreshInBackground, settled } = refresher(o, Policy, write);

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
        if (!head) {
          const conditional = revalidation.headers;
          refreshInBackground(ctx, next, { key, request, entry, policy, conditional });
        }
        return fromEntry(ctx, entry, response.headers, 'STALE');
      }
    }
    if (head) return next(ctx);
    const conditional = revalidation?.headers ?? {};
    return refresh(ctx, next, { key, request, entry, policy, conditional });
  }

  /**
   * RFC 9111 §4.4: a successful unsafe request (POST, PUT, PATCH, DELETE…) invalidates what is
   * stored for its URL, so the next GET asks the partner.
   */
  async function invalidate(url: string, response: HttpResponse): Promise<HttpResponse> {
    if (response.status < 400) await remove(`GET ${url}`);
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
    settled,
    async close() {
      await settled();
      if (ownsStore) await store.close?.();
    },
  });
}
