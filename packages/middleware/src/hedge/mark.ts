// The mark hedge() leaves on the context of each hedge, and how layers below it read it.
// A pure helper: logging and openTelemetry read the mark without loading hedge() itself.
import type { Context } from '@extapi/core';

// Symbol.for: a mark left by another installed copy of this package is read all the same.
const HEDGE: unique symbol = Symbol.for('extapi.hedge') as never;

/**
 * Which hedge `ctx` is: 0 for a call's first attempt (or a call hedge() never saw), 1… for the
 * extra attempts hedge() sent. A hedge keeps `ctx.attempt` (it is a copy of the same attempt);
 * this is how a middleware below hedge() tells the copies apart.
 * @example
 * const tag: Middleware = (ctx, next) => {
 *   if (hedgeNumber(ctx) > 0) ctx.request.headers.set('x-hedge', String(hedgeNumber(ctx)));
 *   return next(ctx);
 * };
 */
export function hedgeNumber(ctx: Context): number {
  return (ctx as { [HEDGE]?: number })[HEDGE] ?? 0;
}

/**
 * Marks `ctx` (a fresh clone) as hedge number `hedge`; see {@link hedgeNumber}.
 * @example
 * const copy = ctx.clone({ scope: ctx.scope.fork() });
 * markHedge(copy, 1); // hedgeNumber(copy) === 1
 */
export function markHedge(ctx: Context, hedge: number): void {
  (ctx as { [HEDGE]?: number })[HEDGE] = hedge;
}
