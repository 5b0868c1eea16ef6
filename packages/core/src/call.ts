// A call's run through the stack: on its root scope (the one place its deadline and the caller's
// signal live), checked for a response, released when it settles or its streamed body closes.
import { type Chain, isResponse, noResponseError, type Trail } from './compose.js';
import type { Context, HttpResponse, Next } from './types.js';

/**
 * Runs the call through the stack on its root scope: the one place its deadline and the
 * caller's signal live, released when the call settles (or its streamed body closes).
 */
export async function execute(
  run: Chain,
  next: Next,
  names: readonly string[],
  ctx: Context,
  userSignal: AbortSignal | undefined,
): Promise<HttpResponse> {
  const scope = ctx.scope;
  const trail: Trail = new Array(names.length);
  let streaming = false;
  try {
    const response = await run(ctx, next, trail);
    if (!isResponse(response)) return await noResponseError(ctx, response, trail, names);
    const body = response.body;
    if (scope.canAbort && body && !body.destroyed && !body.readableEnded) {
      // The caller's signal and the deadline still reach a body streamed after we return, whatever
      // the transport makes of the abort; both are released when the body closes.
      streaming = true;
      const off = scope.onAbort((reason) => body.destroy(reason as Error));
      body.once('close', () => {
        off();
        scope.dispose();
      });
    }
    return response;
  } catch (error) {
    // Whatever the transport made of the abort, the caller sees its own reason or our TimeoutError.
    if (userSignal?.aborted) throw userSignal.reason;
    if (scope.aborted) throw scope.reason;
    throw error;
  } finally {
    if (!streaming) scope.dispose();
  }
}
