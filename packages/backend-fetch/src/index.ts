// @extapi/backend-fetch: the fetch transport, the last element of a createClient stack.
// It depends on @extapi/core only; any fetch (global, undici's, instrumented) can be plugged in.
export {
  DEFAULT_FETCH_TRANSPORT_OPTIONS,
  type FetchFunction,
  type FetchResponse,
  type FetchTransportOptions,
  type ResolvedFetchTransportOptions,
  resolveFetchTransportOptions,
} from './options.js';
export { type FetchTransport, fetchTransport } from './transport.js';
export { mapFetchError } from './map-error.js';
