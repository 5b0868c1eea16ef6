// Reads how long a server asks its clients to hold off: Retry-After on a 429/503, or a rate limit
// header saying none are left until a reset. rateLimit pauses a key for that long.
import {
  type HttpResponse,
  parseRateLimitReset,
  parseRetryAfter,
  peekResponseHeaders,
} from '@extapi/core';

// `remaining=0` / `r=0` in the RateLimit structured header (dictionary and list forms of the draft).
const STRUCTURED_EXHAUSTED = /(?:^|[\s,;])(?:r|remaining)\s*=\s*0(?![\d.])/i;

// Read on every response a limiter sees: one array for all of them, not a literal per response.
const REMAINING = ['ratelimit-remaining', 'x-ratelimit-remaining'] as const;

function exhausted(headers: Pick<Headers, 'get'>): boolean {
  for (let i = 0; i < REMAINING.length; i++) {
    const value = headers.get(REMAINING[i]!);
    if (value !== null && value.trim() === '0') return true;
  }
  const structured = headers.get('ratelimit');
  return structured !== null && STRUCTURED_EXHAUSTED.test(structured);
}

/**
 * How long a response asks to pause further calls, in ms, or `undefined`: a 429 or 503 with a
 * `Retry-After`, else any response whose `RateLimit`, `RateLimit-Remaining` or
 * `X-RateLimit-Remaining` says 0 are left, with a reset time.
 * @example
 * serverPauseMs(response); // 429 with 'retry-after: 2' → 2000
 */
export function serverPauseMs(response: HttpResponse, nowMs?: number): number | undefined {
  const { status } = response;
  // Asked for by name, a few at a time: no Headers is built for a response that has none of them.
  const headers = peekResponseHeaders(response);
  if (status === 429 || status === 503) {
    const retryAfter = parseRetryAfter(headers.get('retry-after'), nowMs ?? Date.now());
    if (retryAfter !== undefined) return retryAfter;
  }
  // The clock is read only when a pause is asked for: most responses ask none.
  return exhausted(headers) ? parseRateLimitReset(headers, nowMs ?? Date.now()) : undefined;
}
