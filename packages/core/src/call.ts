// A call's run through the stack: on its root scope (the one place its deadline and the caller's
// signal live), checked for a response, released when it settles or its streamed body closes.
import { type Chain, isResponse, noResponseError, type Trail } from './compose.js';
import type { Context, HttpResponse, Next } from './types.js';

/**
 * Runs the call through the stack on its root scope: the one place its deadline and the
 * caller's signal live, released when the call settles (or its streamed body closes).
 */
export function execute(
  run: Chain,
  next: Next,
  names: readonly string[],
  ctx: Context,
  userSignal: AbortSignal | undefined,
): Promise<HttpResponse> {
  const scope = ctx.scope;
  // No middleware to drop the response and nothing to release (no deadline, no signal): the
  // redirect step's own promise is the call's.
  if (names.length === 0 && !scope.canAbort) return run(ctx, next);
  const trail: Trail = new Array(names.length);
  // Whatever the transport made of the abort, the caller sees its own reason or our TimeoutError.
  const fail = (error: unknown): never => {
    scope.dispose();
    throw userSignal?.aborted ? userSignal.reason : scope.aborted ? scope.reason : error;
  };
  // Not async: a call costs one `.then` here, not an async frame.
  return Promise.resolve(run(ctx, next, trail)).then((response) => {
    if (!isResponse(response)) return noResponseError(ctx, response, trail, names).then(fail, fail);
    // A scope that can never abort has nothing to release.
    if (!scope.canAbort) return response;
    const body = response.body;
    if (body && !body.destroyed && !body.readableEnded) {
      // The caller's signal and the deadline still reach a body streamed after we return, whatever
      // the transport makes of the abort; both are released when the body closes.
      const off = scope.onAbort((reason) => body.destroy(reason as Error));
      body.once('close', () => {
        off();
        scope.dispose();
      });
    } else scope.dispose();
    return response;
  }, fail);
}
