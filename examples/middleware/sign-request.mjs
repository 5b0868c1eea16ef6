// signRequest(): signs every attempt, and declares that it must run per attempt. A region of
// docs/writing-middleware.md (checked word for word by custom-middleware.test.mjs).
// #region sign-request
import { defineMiddleware } from '@extapi/core';

/** Signs each attempt: the signature covers the attempt's own date, so it must not be reused. */
export function signRequest(sign) {
  const middleware = async function signRequest(ctx, next) {
    const date = new Date().toUTCString();
    ctx.request.headers.set('date', date);
    ctx.request.headers.set(
      'x-signature',
      sign(`${ctx.request.method} ${ctx.request.url} ${date}`),
    );
    return next(ctx);
  };
  return defineMiddleware(middleware, {
    name: 'signRequest',
    placement: { per: 'attempt', reason: 'a signature covers the date of one attempt' },
  });
}
// #endregion sign-request
