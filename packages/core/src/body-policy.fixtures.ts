// Test fixtures shared by the body policy's tests with either stream adapter (body-policy.test.ts on
// Node streams, web-streams.test.ts on Web Streams). Not part of any build entry.
import type { WireResponse } from './body-policy.js';
import { isExtapiError, TransportError } from './errors.js';

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
