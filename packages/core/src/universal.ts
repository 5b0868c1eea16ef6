// What @extapi/core exports on every runtime: index.ts (Node) adds the Node stream helpers,
// index.web.ts (browsers, workers) nothing more. Neither this file nor its imports may need Node.
export type {
  CallInfo,
  Context,
  Handler,
  HttpRequest,
  HttpResponse,
  Middleware,
  Next,
  Progress,
  RequestBody,
  RequestMeta,
  Transport,
} from './types.js';
// The types that follow the build: Node's with the `node` condition, the web's elsewhere.
export type { BodyBytes, BodyStream, NodeStream } from '@extapi/core/platform-types';
export { compose } from './compose.js';
export { markSensitiveHeader, peekHeaders, requestUrl } from './context.js';
export { createContext, type ContextInit } from './context-init.js';
export { createClient, type Client } from './client.js';
export { DEFAULT_CLIENT_OPTIONS, type ClientOptions } from './client-options.js';
export type { Query, QueryValue, RequestOptions } from './request.js';
export {
  DEFAULT_PAGINATION_OPTIONS,
  type NextPage,
  type NextPageRequest,
  type Page,
  type PageInfo,
  type PageRequest,
  type PaginateOptions,
  type PaginationOptions,
} from './paginate-options.js';
export { findLink, type LinkValue, parseLinkHeader } from './link-header.js';
export { isDiscardedRedirect, type RedirectMode } from './redirect.js';
export { originOf, type UrlText } from './url.js';
export { createResponse, peekResponseHeaders, type ResponseInit } from './response.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export { describeIssues, isStandardSchema, issuePath } from './schema-issues.js';
export { type HeaderRecord, type HeaderSource, recordHeaders } from './record-headers.js';
export { headerList } from './pass-headers.js';
export {
  base64,
  bodyLength,
  checkedLength,
  contentCodings,
  DECODABLE_CODINGS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DRAIN_MAX_BYTES,
  DRAIN_TIMEOUT_MS,
  isReplayableBody,
  isWebStream,
  lengthMismatch,
  MAX_CONTENT_CODINGS,
  readBody,
  responseLimit,
  utf8,
  webChunks,
  type BodyLimitOptions,
  type RawBody,
} from './body.js';
export { bodyPolicy } from './body-policy.js';
export type {
  BodyPolicy,
  BodyPolicyOptions,
  BodyStreams,
  WireHead,
  WireHeader,
  WireResponse,
} from './wire.js';
export {
  decodeWebStream,
  discardWebStream,
  fromRawBody,
  limitWebStream,
  webStreams,
} from './web-streams.js';
export {
  encodeFormData,
  type EncodedForm,
  isStreamBody,
  outgoingBody,
  type OutgoingBody,
} from './request-body.js';
export {
  createProgressReporter,
  PROGRESS_INTERVAL_MS,
  withProgress,
  type ProgressReport,
} from './progress.js';
export { linkSignal, NEVER_ABORT, sleep, type AbortLike, type LinkedSignal } from './signal.js';
export { AbortScope } from './scope.js';
export type { AbortFollower } from './scope-race.js';
export {
  MAX_SERVER_DELAY_MS,
  parseHttpDate,
  parseRateLimitReset,
  parseRetryAfter,
} from './retry-after.js';
export {
  DEFAULT_REDACT_HEADERS,
  DEFAULT_SENSITIVE_HEADERS,
  isSecretName,
  isSecretQueryName,
  isSensitiveHeader,
  REDACTED,
  redactHeaders,
  redactPath,
  redactText,
  redactUrl,
} from './redact.js';
export type { Logger } from './logger.js';
export { defineTransport, type TransportInit } from './transport.js';
export {
  callError,
  errorCode,
  errorMessage,
  toNetworkError,
  type NetworkErrorOptions,
  type NetworkTimeouts,
} from './network-error.js';
export {
  defineMiddleware,
  middlewareInfo,
  middlewareName,
  type MiddlewareInfo,
  type MiddlewarePlacement,
  type ResolvedMiddlewareInfo,
} from './middleware-info.js';
export { lintStack, STACK_ORDER_WARNING_CODE, type StackLintWarning } from './stack-lint.js';
export * from './errors.js';
export {
  errorName,
  isCircuitOpenError,
  isConfigError,
  isExtapiError,
  isHttpStatusError,
  isPaginationError,
  isQueueFullError,
  isResponseTooLargeError,
  isResponseValidationError,
  isTimeoutError,
  isTooManyRedirectsError,
  isTransportError,
} from './error-guards.js';
export {
  MAX_TIMER_MS,
  option,
  readOptions,
  suggestOption,
  unknownOption,
  type OptionCheck,
  type OptionSpec,
  type ResolvedOptions,
} from './options.js';
