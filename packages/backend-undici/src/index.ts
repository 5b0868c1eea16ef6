// @extapi/backend-undici: the undici transport, the terminal of a stack built with createClient.
// It sends requests with undici.request on a keep-alive Agent; core handles redirects and the rest.
export {
  DEFAULT_UNDICI_TRANSPORT_OPTIONS,
  type UndiciTlsOptions,
  type UndiciTransportOptions,
} from './options.js';
export {
  undiciTransport,
  type UndiciTransport,
  type UndiciResponseData,
} from './transport.js';
