// Test fixtures shared by the body policy's tests with either stream adapter (body-policy.test.ts on
// Node streams, web-streams.test.ts on Web Streams). Not part of any build entry.
import type { WireResponse } from './wire.js';
import { type ContextInit, createContext } from './context-init.js';
import { type ExtapiError, TransportError } from './errors.js';
import { isExtapiError } from './error-guards.js';
import type { Context } from './types.js';

/** What a transport hands the body policy: a 200 with `body`, and `extra` over it. */
export function wire(body: WireResponse['body'], extra: Partial<WireResponse> = {}): WireResponse {
  return {
    status: 200,
    statusText: 'OK',
    headers: new Headers(),
    contentLength: undefined,
    contentEncoding: undefined,
    location: undefined,
    body,
    raw: 'raw',
    ...extra,
  };
}

/** A backend error, and the mapping that turns it into an extapi one (extapi errors as they are). */
export const mapError = (error: unknown) =>
  isExtapiError(error) ? error : new TransportError('mapped', 'ECONNRESET', { cause: error });

/** A GET of http://api.test/x, with `init` over it. */
export function ctxOf(init: Partial<ContextInit> = {}): Context {
  return createContext({
    request: {
      method: 'GET',
      url: new URL('http://api.test/x'),
      headers: new Headers(),
      body: undefined,
    },
    ...init,
  });
}

/** The error `promise` rejects with; throws if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<ExtapiError> {
  try {
    await promise;
  } catch (error) {
    return error as ExtapiError;
  }
  throw new Error('expected a rejection');
}
