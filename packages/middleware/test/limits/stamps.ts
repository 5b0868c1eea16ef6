// Test helper: when a limiter lets each call through, to tell its bound from the delivery's spread.
import type { Middleware } from '@extapi/core';

/**
 * A middleware to place right after the limiters, and the time (`performance.now()`) at which it
 * saw each call, by the call's path: give every call its own path to tell them apart.
 */
export function stampStarts(): { starts: Map<string, number>; stamp: Middleware } {
  const starts = new Map<string, number>();
  const stamp: Middleware = (ctx, next) => {
    starts.set(ctx.request.url.pathname, performance.now());
    return next(ctx);
  };
  return { starts, stamp };
}
