// resendOnce(): calls `next` a second time for a flaky gateway's 502. A region of
// docs/writing-middleware.md (checked word for word by custom-middleware.test.mjs).
// #region resend-once
import { defineMiddleware, isReplayableBody, sleep } from '@extapi/core';

/** Re-sends once, after `delayMs`, when the answer is one of `statuses` (a flaky gateway). */
export function resendOnce({ statuses = [502], delayMs = 100 } = {}) {
  const retryable = new Set(statuses);
  const middleware = async function resendOnce(ctx, next) {
    const first = await next(ctx.clone());
    // A stream body was consumed by the first attempt: it cannot be sent twice.
    if (!retryable.has(first.status) || !isReplayableBody(ctx.request.body)) return first;
    await first.discard(); // we drop this response: release its connection
    await sleep(delayMs, ctx.signal); // a caller's abort or a deadline ends the wait at once
    return next(ctx.clone({ attempt: ctx.attempt + 1 }));
  };
  // It re-sends: middleware that must run per attempt belong after it (see "Placement" in the guide).
  return defineMiddleware(middleware, { name: 'resendOnce', placement: { resends: true } });
}
// #endregion resend-once
