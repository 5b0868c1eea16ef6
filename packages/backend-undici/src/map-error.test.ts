// Table-driven tests of mapUndiciError: which undici or Node error becomes which extapi error and code.
// Pure: the errors are built by hand with the codes undici and Node use.
import {
  createContext,
  type ExtapiError,
  isExtapiError,
  isTimeoutError,
  isTransportError,
  ResponseTooLargeError,
  type TimeoutError,
} from '@extapi/core';
import { errors as undiciErrors } from 'undici';
import { mapUndiciError } from './map-error.js';

const timeouts = { connectTimeoutMs: 11, headersTimeoutMs: 22, bodyTimeoutMs: 33 };

function ctxFor(signal?: AbortSignal) {
  return createContext({
    request: {
      method: 'POST',
      url: new URL('http://api.test/items?token=secret'),
      headers: new Headers(),
      body: undefined,
    },
    signal,
  });
}

function systemError(code: string): Error {
  return Object.assign(new Error(`${code} failure`), { code });
}

describe('mapUndiciError', () => {
  const transportCases: [string, unknown, string][] = [
    ['ECONNREFUSED stays ECONNREFUSED', systemError('ECONNREFUSED'), 'ECONNREFUSED'],
    ['ECONNRESET stays ECONNRESET', systemError('ECONNRESET'), 'ECONNRESET'],
    ['EPIPE becomes ECONNRESET', systemError('EPIPE'), 'ECONNRESET'],
    [
      'a closed socket (UND_ERR_SOCKET) becomes ECONNRESET',
      new undiciErrors.SocketError('other side closed'),
      'ECONNRESET',
    ],
    ['ENOTFOUND stays ENOTFOUND', systemError('ENOTFOUND'), 'ENOTFOUND'],
    [
      'a 407 from a proxy in absolute form becomes ERR_PROXY_AUTH_REQUIRED',
      new undiciErrors.InvalidArgumentError('Proxy Authentication Required (407)'),
      'ERR_PROXY_AUTH_REQUIRED',
    ],
    [
      'a 407 to CONNECT becomes ERR_PROXY_AUTH_REQUIRED',
      new undiciErrors.RequestAbortedError('Proxy response (407) !== 200 when HTTP Tunneling'),
      'ERR_PROXY_AUTH_REQUIRED',
    ],
    [
      'another refused CONNECT becomes ERR_PROXY_CONNECT',
      new undiciErrors.RequestAbortedError('Proxy response (403) !== 200 when HTTP Tunneling'),
      'ERR_PROXY_CONNECT',
    ],
    [
      'a TLS error behind a tunnel takes the code of its cause',
      new undiciErrors.SecureProxyConnectionError(systemError('ERR_TLS_CERT_ALTNAME_INVALID')),
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    ['a TLS certificate error keeps its code', systemError('CERT_HAS_EXPIRED'), 'CERT_HAS_EXPIRED'],
    [
      'an AggregateError takes the code of its first error',
      Object.assign(new AggregateError([systemError('ECONNREFUSED')]), {}),
      'ECONNREFUSED',
    ],
    [
      'a closed client becomes ERR_TRANSPORT_CLOSED',
      new undiciErrors.ClientClosedError(),
      'ERR_TRANSPORT_CLOSED',
    ],
    [
      'a destroyed client becomes ERR_TRANSPORT_CLOSED',
      new undiciErrors.ClientDestroyedError(),
      'ERR_TRANSPORT_CLOSED',
    ],
    ['an error without a code becomes ERR_NETWORK', new Error('odd'), 'ERR_NETWORK'],
  ];
  it.each(transportCases)('%s', (_title, error, code) => {
    const mapped = mapUndiciError(error, ctxFor(), timeouts) as ExtapiError;
    expect(isTransportError(mapped)).toBe(true);
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(error);
    expect(mapped.method).toBe('POST');
    // core redacts secrets in the URL of every error.
    expect(mapped.url).toBe('http://api.test/items?token=[REDACTED]');
  });

  const timeoutCases: [string, unknown, string, number][] = [
    ['a connect timeout', new undiciErrors.ConnectTimeoutError(), 'connect', 11],
    ['an OS-level ETIMEDOUT', systemError('ETIMEDOUT'), 'connect', 11],
    ['a headers timeout', new undiciErrors.HeadersTimeoutError(), 'headers', 22],
    ['a body timeout', new undiciErrors.BodyTimeoutError(), 'body', 33],
  ];
  it.each(timeoutCases)(
    '%s becomes TimeoutError with its phase and deadline',
    (_title, error, phase, ms) => {
      const mapped = mapUndiciError(error, ctxFor(), timeouts) as TimeoutError;
      expect(isTimeoutError(mapped)).toBe(true);
      expect(mapped.phase).toBe(phase);
      expect(mapped.timeoutMs).toBe(ms);
      expect(mapped.cause).toBe(error);
    },
  );

  it('an aborted signal wins: the error is the signal reason itself', () => {
    const reason = { why: 'caller' };
    const mapped = mapUndiciError(
      new undiciErrors.RequestAbortedError(),
      ctxFor(AbortSignal.abort(reason)),
      timeouts,
    );
    expect(mapped).toBe(reason);
  });

  it('extapi errors pass through unchanged', () => {
    const error = new ResponseTooLargeError(10);
    expect(mapUndiciError(error, ctxFor(), timeouts)).toBe(error);
  });

  it('a zlib or brotli error is a decoding error, not a network error', () => {
    for (const code of ['Z_DATA_ERROR', 'ERR__ERROR_FORMAT_PADDING_1']) {
      const mapped = mapUndiciError(systemError(code), ctxFor(), timeouts) as ExtapiError;
      expect(isTransportError(mapped)).toBe(false);
      expect(mapped.code).toBe('ERR_CONTENT_DECODING');
    }
  });

  it('an invalid argument is a request error, not a network error', () => {
    const mapped = mapUndiciError(
      new undiciErrors.InvalidArgumentError('bad header'),
      ctxFor(),
      timeouts,
    );
    expect(isExtapiError(mapped)).toBe(true);
    expect(isTransportError(mapped)).toBe(false);
    expect((mapped as ExtapiError).code).toBe('ERR_INVALID_REQUEST');
  });
});
