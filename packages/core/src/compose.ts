// compose(): folds middleware into one Middleware, the onion that createClient ends in a transport.
// The chain of layer functions is built once here; a call only allocates the `next` closures it uses.
import { ConfigError } from './errors.js';
import type { Context, HttpResponse, Middleware, Next } from './types.js';

type Layer = (ctx: Context, final: Next) => Promise<HttpResponse>;

/**
 * Composes middleware outside-in: the first sees the call first and the response last.
 * The result is itself a `Middleware`, so compositions nest and stacks can be shared.
 * `next` may be called more than once (retry, hedging) and concurrently; `next()` without an
 * argument passes the same `ctx`.
 * @example
 * const stack = compose(retry(), headers({ 'x-app': 'billing' }));
 * const client = createClient([stack, undiciTransport()]);
 */
export function compose(...middleware: Middleware[]): Middleware {
  middleware.forEach((fn, i) => {
    if (typeof fn !== 'function')
      throw new ConfigError(`middleware[${i}]`, fn, 'expected a function');
  });
  let layer: Layer = (ctx, final) => final(ctx);
  for (let i = middleware.length - 1; i >= 0; i--) {
    const fn = middleware[i]!;
    const inner = layer;
    layer = (ctx, final) => {
      try {
        return fn(ctx, (nextCtx) => inner(nextCtx ?? ctx, final));
      } catch (error) {
        // A middleware that throws synchronously still yields a rejection, never a throw.
        return Promise.reject(error);
      }
    };
  }
  const run = layer;
  return function composed(ctx: Context, next: Next): Promise<HttpResponse> {
    return run(ctx, next);
  };
}
