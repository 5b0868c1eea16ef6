// The guards of the error family: a global brand rather than bare instanceof, since two copies of
// core can be installed and an error from one must still be recognised by the other.
import type {
  CircuitOpenError,
  ConfigError,
  ExtapiError,
  HttpStatusError,
  PaginationError,
  QueueFullError,
  ResponseTooLargeError,
  ResponseValidationError,
  TimeoutError,
  TooManyRedirectsError,
  TransportError,
} from './errors.js';

/** The brand every ExtapiError carries (set by its constructor), shared by every copy of core. */
export const BRAND = Symbol.for('extapi.error');

/**
 * The most specific name of a thrown value, for labelling failures in metrics and spans: its class
 * name (`TransportError`, `TypeError`), unless that is the generic `Error` or `DOMException`, whose
 * `name` (`AbortError`) says more; `undefined` when neither names it or the value is not an object.
 * @example
 * errorName(new TypeError('x')); // 'TypeError'
 */
export function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const className = (error as { constructor?: { name?: unknown } }).constructor?.name;
  const name = (error as { name?: unknown }).name;
  if (
    typeof className === 'string' &&
    className !== '' &&
    className !== 'Error' &&
    className !== 'DOMException'
  ) {
    return className;
  }
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function hasBrand(error: unknown): error is ExtapiError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[BRAND] === true
  );
}

function guard<T extends ExtapiError>(name: string): (error: unknown) => error is T {
  return (error: unknown): error is T => hasBrand(error) && (error as Error).name === name;
}

/** Whether `error` is any extapi error, from any installed copy of core. */
export const isExtapiError = (error: unknown): error is ExtapiError => hasBrand(error);
/** Whether `error` is an {@link HttpStatusError}. */
export const isHttpStatusError = guard<HttpStatusError>('HttpStatusError');
/** Whether `error` is a {@link TimeoutError}. */
export const isTimeoutError = guard<TimeoutError>('TimeoutError');
/** Whether `error` is a {@link TransportError}. */
export const isTransportError = guard<TransportError>('TransportError');
/** Whether `error` is a {@link QueueFullError}. */
export const isQueueFullError = guard<QueueFullError>('QueueFullError');
/** Whether `error` is a {@link CircuitOpenError}. */
export const isCircuitOpenError = guard<CircuitOpenError>('CircuitOpenError');
/** Whether `error` is a {@link ResponseTooLargeError}. */
export const isResponseTooLargeError = guard<ResponseTooLargeError>('ResponseTooLargeError');
/** Whether `error` is a {@link TooManyRedirectsError}. */
export const isTooManyRedirectsError = guard<TooManyRedirectsError>('TooManyRedirectsError');
/** Whether `error` is a {@link ResponseValidationError}. */
export const isResponseValidationError = guard<ResponseValidationError>('ResponseValidationError');
/** Whether `error` is a {@link ConfigError}. */
export const isConfigError = guard<ConfigError>('ConfigError');
/** Whether `error` is a {@link PaginationError}. */
export const isPaginationError = guard<PaginationError>('PaginationError');
