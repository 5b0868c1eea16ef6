// cache()'s way to the partner once the store has been asked: the response stored when the rules
// allow, and a stale entry revalidated in the call or once in the background (RFC 9111 §4.3, RFC 5861).
import {
  AbortScope,
  type Context,
  type HttpResponse,
  isHttpStatusError,
  type Next,
  TimeoutError,
} from '@extapi/core';
import type { FailSoftStore } from './fail-soft-store.js';
import type { ResolvedCacheOptions } from './options.js';
import {
  allowsAuthenticated,
  type CachePolicy,
  forbidsStale,
  type PolicyClass,
  type PolicyRequest,
  policyOptions,
  responseHeaderRecord,
  storedRequestHeaders,
} from './policy.js';
import { type CacheStatus, fromEntry, isServerFailure, mark } from './respond.js';
import type { CacheEntry } from './store.js';

/** A stored entry to revalidate, as `refresh` and `refreshInBackground` take it. */
export interface Stored {
  /** The entry's cache key. */
  key: string;
  /** The call's request, as the cache policy reads it. */
  request: PolicyRequest;
  /** The entry as the store holds it. */
  entry: CacheEntry;
  /** The entry's policy, rebuilt from `entry.policy`. */
  policy: CachePolicy;
  /** The validators to send (`if-none-match`, `if-modified-since`); `{}` for none. */
  conditional: CachePolicy.Headers;
}

/**
 * The partner-facing half of one cache() instance: `keep` (store a response the rules allow),
 * `refresh` (revalidate a stored entry in the call), `refreshInBackground` (the same, once per key,
 * after the caller was served stale) and `settled` (wait for those background refreshes).
 * State: the background refreshes in flight, shared by every call through one cache() instance.
 * @example
 * const { keep, refresh, refreshInBackground, settled } = refresher(o, policyClass(o.now), write);
 */
export function refresher(
  o: ResolvedCacheOptions,
  Policy: PolicyClass,
  write: FailSoftStore['write'],
) {
  const policyOpts = policyOptions(o.heuristic);
  const refreshing = new Map<string, Promise<void>>();

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
  async function refresh(ctx: Context, next: Next, stored: Stored): Promise<HttpResponse> {
    const { key, request, entry, policy, conditional } = stored;
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

  function refreshInBackground(ctx: Context, next: Next, stored: Stored): void {
    const { key } = stored;
    // One refresh per key at a time (RFC 5861 §3 asks for one, not one per caller).
    if (refreshing.has(key)) return;
    const ms = o.refreshTimeoutMs;
    // Its own scope: the caller's call ends now, and its abort or deadline must not cut the refresh.
    const scope = new AbortScope(
      undefined,
      ms,
      () => new TimeoutError(ms, { phase: 'middleware' }),
    );
    const job = refresh(ctx.clone({ scope }), next, stored)
      .then((response) => response.discard())
      .catch(() => {})
      .finally(() => {
        scope.dispose();
        refreshing.delete(key);
      });
    refreshing.set(key, job);
  }

  /** Resolves once every background refresh started so far has ended. */
  async function settled(): Promise<void> {
    while (refreshing.size > 0) await Promise.allSettled([...refreshing.values()]);
  }

  return { keep, refresh, refreshInBackground, settled };
}
