// The bridge to http-cache-semantics (the RFC 9111 rules live there, not here): plain header
// records for its CachePolicy, credentials hashed before they reach a stored policy, and a clock.
import { createHash } from 'node:crypto';
import { type Context, type HeaderRecord, isSensitiveHeader } from '@extapi/core';
import CachePolicy from 'http-cache-semantics';

/** A request as the policy reads it: `url`, `method` (GET for a HEAD) and the header record. */
export type PolicyRequest = CachePolicy.Request & { headers: CachePolicy.Headers };

/** The policy class with the cache's clock (the library reads time only through `now()`). */
export type PolicyClass = typeof CachePolicy;

/**
 * A CachePolicy subclass whose clock is `now`: `fromObject` and `revalidatedPolicy` build instances
 * of the same class, so every policy of one cache reads the same clock.
 * @example
 * const Policy = policyClass(() => fakeNow);
 */
export function policyClass(now: () => number): PolicyClass {
  if (now === Date.now) return CachePolicy;
  return class ClockedPolicy extends CachePolicy {
    now(): number {
      return now();
    }
  };
}

/** The options every policy of a private cache is built with. */
export function policyOptions(heuristic: number): CachePolicy.Options {
  // shared: false: this cache belongs to one client (RFC 9111 §3.5 rules for Authorization are
  // applied by the middleware itself, more strictly than a private cache must).
  return { shared: false, cacheHeuristic: heuristic };
}

function hashed(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('base64url')}`;
}

/**
 * The request headers as the policy sees them: lowercase names, and credentials (`Authorization`,
 * `Cookie`, `X-Api-Key`…, plus the client's `sensitiveHeaders`) replaced by their hash, so a stored
 * policy (which keeps the headers a `Vary` names) never holds a secret, while `Vary: Authorization`
 * still tells one credential from another.
 */
export function requestHeaderRecord(ctx: Context): CachePolicy.Headers {
  const record: CachePolicy.Headers = {};
  ctx.request.headers.forEach((value, name) => {
    record[name] = isSensitiveHeader(name, ctx.sensitiveHeaders) ? hashed(value) : value;
  });
  return record;
}

/**
 * The subset of `request` a stored policy keeps: the fields the response's `Vary` names and the
 * request directives the policy reads; none of the rest is written to the store.
 */
export function storedRequestHeaders(
  request: CachePolicy.Headers,
  vary: string | null,
): CachePolicy.Headers {
  const kept: CachePolicy.Headers = {};
  const names = ['cache-control', 'pragma', 'authorization', 'host'];
  if (vary) for (const name of vary.toLowerCase().split(',')) names.push(name.trim());
  for (const name of names) if (request[name] !== undefined) kept[name] = request[name];
  return kept;
}

/** The response headers as a record of lowercase names (`set-cookie` kept as a list). */
export function responseHeaderRecord(headers: Headers): HeaderRecord {
  const record: HeaderRecord = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record['set-cookie'] = cookies;
  return record;
}

/** Whether a response's own directives forbid serving it stale (RFC 9111 §4.2.4), e.g. on an error. */
export function forbidsStale(cacheControl: string | string[] | undefined): boolean {
  const value = Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl;
  return (
    value !== undefined && /(?:^|,)\s*(?:must-revalidate|no-cache|proxy-revalidate)\b/i.test(value)
  );
}

/** Whether a response may be stored for a request that carried credentials (RFC 9111 §3.5). */
export function allowsAuthenticated(cacheControl: string | null): boolean {
  return cacheControl !== null && /(?:^|,)\s*(?:public|s-maxage\s*=)/i.test(cacheControl);
}

export { CachePolicy };
