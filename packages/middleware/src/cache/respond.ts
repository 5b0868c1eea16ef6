// What cache() answers with and how it says so: the x-extapi-cache header, responses built from a
// stored entry, and the small predicates of the middleware (cache.ts).
import { Readable } from 'node:stream';
import {
  type Context,
  createResponse,
  type HttpResponse,
  isCircuitOpenError,
  isHttpStatusError,
  isTimeoutError,
  isTransportError,
  recordHeaders,
} from '@extapi/core';
import type { CachePolicy } from './policy.js';
import type { CacheEntry } from './store.js';

/**
 * The response header that tells how the cache answered; see {@link CacheStatus}.
 * @example
 * const res = await client.get('/items/1');
 * if (res.headers.get(CACHE_STATUS_HEADER) === 'HIT') hits++;
 */
export const CACHE_STATUS_HEADER = 'x-extapi-cache';

/**
 * The value of {@link CACHE_STATUS_HEADER}: `HIT` (fresh from the store, nothing sent),
 * `REVALIDATED` (stored body, confirmed by a 304), `STALE` (stored body served stale:
 * stale-while-revalidate, or stale-if-error after a failure), `MISS` (the partner's response).
 */
export type CacheStatus = 'HIT' | 'REVALIDATED' | 'STALE' | 'MISS';

const CONDITIONAL = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'range',
];

// Methods that change nothing at the partner (RFC 9110 §9.2.1): they invalidate nothing.
export const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Whether the caller made its own conditional or range request. */
export function hasConditional(headers: Headers): boolean {
  for (const name of CONDITIONAL) if (headers.has(name)) return true;
  return false;
}

/** Whether a failed refresh may be answered with the stored response (RFC 5861 §4). */
export function isServerFailure(error: unknown): boolean {
  return (
    isTransportError(error) ||
    isCircuitOpenError(error) ||
    isTimeoutError(error) ||
    (isHttpStatusError(error) && error.status >= 500)
  );
}

/** Marks a response with how the cache answered (a miss's headers are the partner's). */
export function mark(response: HttpResponse, status: CacheStatus): HttpResponse {
  try {
    response.headers.set(CACHE_STATUS_HEADER, status);
  } catch {
    // A transport's immutable headers: the caller just cannot tell this miss apart.
  }
  return response;
}

/**
 * A new response from a stored entry, for one caller: its own copy of the body (none for a HEAD; a
 * stream over the copy when the call asked for a stream) and `headers` marked with `status`.
 */
export function fromEntry(
  ctx: Context,
  entry: CacheEntry,
  headers: CachePolicy.Headers,
  status: CacheStatus,
): HttpResponse {
  headers[CACHE_STATUS_HEADER] = status;
  const head = ctx.request.method === 'HEAD';
  // Each caller gets its own bytes: one must not see what another wrote into its copy (a copy
  // with new Uint8Array: a Buffer's slice() would share the memory).
  const body = head
    ? null
    : ctx.readBody
      ? new Uint8Array(entry.body)
      : Readable.from([Buffer.from(entry.body)]);
  return createResponse({
    status: entry.status,
    statusText: entry.statusText,
    headers: () => recordHeaders(headers),
    url: entry.url,
    method: ctx.request.method,
    body,
  });
}
