// @extapi/middleware/auth: credentials middleware, bearer tokens with refresh and HTTP Basic.
// Place after retry() to get a token per attempt, before it to get one per call.
export {
  bearerAuth,
  type BearerAuthOptions,
  DEFAULT_BEARER_AUTH_OPTIONS,
  type GetToken,
  resolveBearerAuthOptions,
} from './bearer.js';
export { basicAuth, type BasicAuthOptions, resolveBasicAuthOptions } from './basic.js';
