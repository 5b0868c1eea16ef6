// @extapi/backend-undici: the undici transport, the terminal of a stack built with createClient.
// It sends requests through a keep-alive undici Agent; core handles redirects and the rest.
export {
  DEFAULT_UNDICI_TRANSPORT_OPTIONS,
  type UndiciTlsOptions,
  type UndiciTransportOptions,
} from './options.js';
export type { UndiciResponseData } from './raw-response.js';
export { type UndiciTransport, undiciTransport } from './transport.js';
