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
    // No try/catch per layer: allocating `next` inside one stops V8 from optimising it away,
    // which doubles the cost of the chain. A synchronous throw still reaches the caller as a
    // rejection (below), and an async middleware above sees it as the rejection of its `next()`.
    layer = (ctx, final) => fn(ctx, (nextCtx) => inner(nextCtx ?? ctx, final));
  }
  const run = layer;
  return function composed(ctx: Context, next: Next): Promise<HttpResponse> {
    try {
      return run(ctx, next);
    } catch (error) {
      // A middleware that throws synchronously still yields a rejection, never a throw.
      return Promise.reject(error);
    }
  };
}
