// defineTransport(): how backend packages (and tests) turn a handler into a Transport.
// The marker lets createClient tell the terminal from middleware and name both backends in errors.
import { defineMiddleware } from './middleware-info.js';
import type { Handler, Middleware, Transport } from './types.js';

/** What {@link defineTransport} needs besides the handler. */
export interface TransportInit<Extra extends object = {}> {
  /** A short name: `undici`, `fetch`, `mock`. */
  name: string;
  /** Releases connections the transport owns; called once however often `close()` is. @default a no-op */
  close?: () => Promise<void>;
  /** Extra read-only properties, e.g. `dispatcher` or `fetch`, reachable as `client.transport.x`. */
  extra?: Extra;
}

/**
 * Marks a handler as a transport: the terminal of a stack.
 * @example
 * const constant = defineTransport(async (ctx) => createResponse({ status: 204, headers: new Headers(),
 *   url: ctx.request.url.href, method: ctx.request.method, body: null }), { name: 'constant' });
 */
export function defineTransport<Extra extends object = {}>(
  handler: Handler,
  init: TransportInit<Extra>,
): Transport & Readonly<Extra> {
  const release = init.close ?? (() => Promise.resolve());
  // Idempotent: clients made with extend() share one transport and each may close it (undici's
  // Agent rejects a second close with ClientDestroyedError).
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= release();
    return closing;
  };
  const transport = (ctx: Parameters<Handler>[0]) => handler(ctx);
  Object.defineProperty(transport, 'name', { value: `${init.name}Transport` });
  // Declared like any middleware, so the stack check knows nothing can follow it.
  defineMiddleware(transport as Middleware, {
    name: `${init.name}Transport`,
    placement: { terminal: true },
  });
  return Object.assign(
    transport,
    { isTransport: true as const, transportName: init.name, close },
    init.extra,
  ) as Transport & Readonly<Extra>;
}
