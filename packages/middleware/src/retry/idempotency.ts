// The idempotency rule of retry() and hedge(): which requests may be sent twice.
// A pure helper, read once per call by the middleware that re-send.
import { type HttpRequest, peekHeaders } from '@extapi/core';

/** Methods whose repetition has the effect of one request (RFC 9110 §9.2.2). */
export const IDEMPOTENT_METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
];

const DEFAULT_METHODS: ReadonlySet<string> = new Set(IDEMPOTENT_METHODS);

/**
 * Whether `request` may be sent more than once: its method is in `methods` (`'all'` for any), or
 * it carries an `Idempotency-Key` header. The headers are read without copying a clone's.
 * @example
 * isIdempotentRequest({ method: 'POST', url, headers: new Headers({ 'idempotency-key': id }), body }); // true
 */
export function isIdempotentRequest(
  request: HttpRequest,
  methods: ReadonlySet<string> | 'all' = DEFAULT_METHODS,
): boolean {
  return (
    methods === 'all' || methods.has(request.method) || peekHeaders(request).has('idempotency-key')
  );
}
