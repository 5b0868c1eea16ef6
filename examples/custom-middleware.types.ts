// The typed version of the guide's requestId (docs/writing-middleware.md): declaration merging on
// RequestMeta, a typed ctx.state key. Type-checked by custom-middleware.test.mjs (tsc, node16).
// #region typed
import type { Context, HttpResponse, Middleware, Next } from '@extapi/core';

// Declaration merging: every `meta` of every call now knows this optional field.
declare module '@extapi/core' {
  interface RequestMeta {
    /** The id to send instead of a generated one (e.g. the incoming request's id). */
    requestId?: string;
  }
}

// ctx.state is a Map<string | symbol, unknown>: a typed getter keeps the casts in one place.
const REQUEST_ID = Symbol('requestId');
const getId = (ctx: Context): string | undefined => ctx.state.get(REQUEST_ID) as string | undefined;

export function requestId(generate: () => string = crypto.randomUUID.bind(crypto)): Middleware {
  return async function requestId(ctx: Context, next: Next): Promise<HttpResponse> {
    const id = getId(ctx) ?? ctx.meta.requestId ?? generate(); // meta.requestId: string | undefined
    ctx.state.set(REQUEST_ID, id);
    ctx.request.headers.set('x-request-id', id);
    return next(ctx);
  };
}
// #endregion typed

// The augmentation is visible to callers: a typo or a wrong type in meta fails to compile.
import { createClient } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';

const client = createClient([requestId(), mockTransport()]);
export const call = () => client.get('http://api.test/', { meta: { requestId: 'req-1' } });
// @ts-expect-error requestId is a string
export const wrong = () => client.get('http://api.test/', { meta: { requestId: 42 } });
