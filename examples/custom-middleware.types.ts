// The typed version of the guide's requestId (docs/writing-middleware.md): declaration merging on
// RequestMeta, a typed ctx.state key. Type-checked by custom-middleware.test.mjs (tsc, node16).
// #region typed
import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  type Context,
  defineMiddleware,
  type HttpResponse,
  type Middleware,
  type Next,
} from '@extapi/core';

// Declaration merging: every `meta` of every call now knows this optional field.
declare module '@extapi/core' {
  interface RequestMeta {
    /** The id to send instead of a generated one (e.g. the incoming request's id). */
    requestId?: string;
  }
}

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /** The header that carries the id. @default 'x-request-id' */
  header?: string;
  /** Makes an id when the call's `meta.requestId` gives none. @default crypto.randomUUID */
  generate?: () => string;
}

// ctx.state is a Map<string | symbol, unknown>: a typed getter keeps the casts in one place.
const REQUEST_ID = Symbol('requestId');
const getId = (ctx: Context): string | undefined => ctx.state.get(REQUEST_ID) as string | undefined;

/** Sends one `x-request-id` per call: every attempt of a call carries the same id. */
export function requestId({
  header = 'x-request-id',
  generate = randomUUID,
}: RequestIdOptions = {}): Middleware {
  if (typeof header !== 'string' || !/^[a-z0-9-]+$/i.test(header)) {
    throw new ConfigError('header', header, 'expected a header name');
  }
  const middleware = async function requestId(ctx: Context, next: Next): Promise<HttpResponse> {
    let id = getId(ctx);
    if (id === undefined) {
      id = ctx.meta.requestId ?? generate(); // meta.requestId: string | undefined
      ctx.state.set(REQUEST_ID, id);
    }
    ctx.request.headers.set(header, id);
    return next(ctx);
  };
  return defineMiddleware(middleware, { name: 'requestId' });
}
// #endregion typed

// The augmentation is visible to callers: a typo or a wrong type in meta fails to compile.
import { createClient } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';

const client = createClient([requestId({ header: 'x-correlation-id' }), mockTransport()]);
export const call = () => client.get('http://api.test/', { meta: { requestId: 'req-1' } });
// @ts-expect-error requestId is a string
export const wrong = () => client.get('http://api.test/', { meta: { requestId: 42 } });
