// requestId(): one `x-request-id` per call, the same on every attempt. A region of
// docs/writing-middleware.md (checked word for word by custom-middleware.test.mjs).
// #region request-id
import { randomUUID } from 'node:crypto';
import { ConfigError, defineMiddleware } from '@extapi/core';

const REQUEST_ID = Symbol('requestId');

/** Sends one `x-request-id` per call: every attempt of a call carries the same id. */
export function requestId({ header = 'x-request-id', generate = randomUUID } = {}) {
  // Validate once, at creation: a bad option fails when the client is built, not on the first call.
  if (typeof header !== 'string' || !/^[a-z0-9-]+$/i.test(header)) {
    throw new ConfigError('header', header, 'expected a header name');
  }
  const middleware = async function requestId(ctx, next) {
    // ctx.state is per call and shared by its attempts; ctx.request belongs to this attempt only.
    let id = ctx.state.get(REQUEST_ID);
    if (id === undefined) {
      id = ctx.meta.requestId ?? generate();
      ctx.state.set(REQUEST_ID, id);
    }
    ctx.request.headers.set(header, id); // set, never append: this runs again on every attempt
    return next(ctx);
  };
  // The name describe(), warnings and errors show, whatever a minifier does to the function's.
  return defineMiddleware(middleware, { name: 'requestId' });
}
// #endregion request-id
