// compose(): folds middleware into one Middleware, the onion that createClient ends in a transport.
// The chain of layer functions is built once here; a call only allocates the `next` closures it uses.
import { ConfigError, ExtapiError } from './errors.js';
import type { Context, HttpResponse, Middleware, Next } from './types.js';

/**
 * Per call, the promise each layer's `next()` returned (index i: what layer i got from below), so
 * that a layer that resolved without a response can be named afterwards. One store per layer.
 */
export type Trail = Array<Promise<HttpResponse> | undefined>;

/** A composed chain as the client runs it: the trail is optional (nested `compose()` passes none). */
export type Chain = (ctx: Context, final: Next, trail?: Trail) => Promise<HttpResponse>;

/** Calls a layer so that a synchronous throw becomes a rejection, as koa-compose guarantees. */
function callSafely(layer: Chain, ctx: Context, final: Next, trail: Trail | undefined) {
  try {
    return layer(ctx, final, trail);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Builds the chain once: layer i calls middleware i with a `next` that runs layer i + 1 (the last
 * one runs `final`). Each `next()` returns a promise, never throws.
 */
export function chain(middleware: readonly Middleware[]): Chain {
  middleware.forEach((fn, i) => {
    if (typeof fn !== 'function')
      throw new ConfigError(`middleware[${i}]`, fn, 'expected a function');
  });
  let layer: Chain = (ctx, final) => final(ctx);
  for (let i = middleware.length - 1; i >= 0; i--) {
    const fn = middleware[i]!;
    const inner = layer;
    // The try/catch lives in callSafely, not here: allocating `next` inside a try block stops V8
    // from optimising the closure away, which doubles the cost of the chain.
    layer = (ctx, final, trail) =>
      fn(ctx, (nextCtx) => {
        const below = callSafely(inner, nextCtx ?? ctx, final, trail);
        if (trail !== undefined) trail[i] = below;
        return below;
      });
  }
  const run = layer;
  return (ctx, final, trail) => callSafely(run, ctx, final, trail);
}

/**
 * Composes middleware outside-in: the first sees the call first and the response last.
 * The result is itself a `Middleware`, so compositions nest and stacks can be shared.
 * `next` may be called more than once (retry, hedging) and concurrently; `next()` without an
 * argument passes the same `ctx`. A middleware that throws synchronously makes the `next()` of
 * the one above it reject, never throw.
 * @example
 * const stack = compose(retry(), headers({ 'x-app': 'billing' }));
 * const client = createClient([stack, undiciTransport()]);
 */
export function compose(...middleware: Middleware[]): Middleware {
  const run = chain(middleware);
  return function composed(ctx: Context, next: Next): Promise<HttpResponse> {
    return run(ctx, next);
  };
}

/** Whether a value a middleware resolved with is a response (duck-typed: any copy of core). */
export function isResponse(value: unknown): value is HttpResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as HttpResponse).status === 'number' &&
    typeof (value as HttpResponse).discard === 'function'
  );
}

async function settled(promise: Promise<HttpResponse> | undefined): Promise<unknown> {
  try {
    return await promise;
  } catch {
    return undefined;
  }
}

/**
 * What the client throws when the stack resolved with something other than a response: names the
 * middleware that dropped the response from below (found on the trail) and discards that response
 * so its connection comes back.
 */
export async function noResponseError(
  ctx: Context,
  result: unknown,
  trail: Trail,
  names: readonly string[],
): Promise<never> {
  let culprit: number | undefined;
  for (let i = names.length - 1; i >= 0; i--) {
    if (i > 0 && trail[i - 1] === undefined) continue; // layer i never ran
    const own = i === 0 ? result : await settled(trail[i - 1]);
    if (isResponse(own)) continue;
    const below = await settled(trail[i]);
    if (isResponse(below)) await below.discard();
    culprit = i;
    break;
  }
  const got = result === undefined ? 'undefined' : typeof result;
  const who =
    culprit === undefined
      ? 'a middleware'
      : `middleware stack[${culprit}] (${names[culprit] || 'anonymous'})`;
  throw new ExtapiError(
    `The stack resolved with ${got} instead of a response: ${who} did not return one — did it forget \`return next()\`?`,
    'ERR_NO_RESPONSE',
    { method: ctx.request.method, url: ctx.request.url },
  );
}
