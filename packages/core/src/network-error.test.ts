// Table tests of toNetworkError: which undici or Node error becomes which extapi error and code.
// Pure: the errors are built by hand with the codes undici and Node use; the backends test their wrappers.
import { createContext } from './context-init.js';
import { type ExtapiError, type TimeoutError, TransportError } from './errors.js';
import { isTimeoutError, isTransportError } from './error-guards.js';
import { callError, errorCode, errorMessage, toNetworkError } from './network-error.js';

const timeouts = { connectTimeoutMs: 11, headersTimeoutMs: 22, bodyTimeoutMs: 33 };

function coded(code: string, message = `${code} happened`): Error {
  return Object.assign(new Error(message), { code });
}

function map(error: unknown, hint?: string): ExtapiError {
  const info = { method: 'GET', url: 'http://api.test/x?token=secret', attempt: 3, cause: error };
  return toNetworkError(error, info, timeouts, hint === undefined ? {} : { proxyAuthHint: hint });
}

describe('toNetworkError', () => {
  it.each([
    ['ECONNREFUSED', 'TransportError', 'ECONNREFUSED', coded('ECONNREFUSED')],
    ['EPIPE', 'TransportError', 'ECONNRESET', coded('EPIPE')],
    [
      'UND_ERR_SOCKET',
      'TransportError',
      'ECONNRESET',
      coded('UND_ERR_SOCKET', 'other side closed'),
    ],
    ['UND_ERR_DESTROYED', 'TransportError', 'ERR_TRANSPORT_CLOSED', coded('UND_ERR_DESTROYED')],
    [
      'a content-length mismatch',
      'TransportError',
      'ERR_CONTENT_LENGTH_MISMATCH',
      coded('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'),
    ],
    ['ABORT_ERR', 'TransportError', 'ECONNABORTED', coded('ABORT_ERR')],
    ['UND_ERR_NOT_SUPPORTED', 'ExtapiError', 'ERR_INVALID_REQUEST', coded('UND_ERR_NOT_SUPPORTED')],
    ['a zlib error', 'ExtapiError', 'ERR_CONTENT_DECODING', coded('Z_BUF_ERROR')],
    ['a brotli error', 'ExtapiError', 'ERR_CONTENT_DECODING', coded('ERR__ERROR_FORMAT_PADDING_1')],
    [
      'a refused CONNECT',
      'TransportError',
      'ERR_PROXY_CONNECT',
      coded('UND_ERR_ABORTED', 'Proxy response (502) !== 200 when HTTP Tunneling'),
    ],
    [
      'a TLS error behind a tunnel',
      'TransportError',
      'CERT_HAS_EXPIRED',
      Object.assign(coded('UND_ERR_PRX_TLS'), { cause: coded('CERT_HAS_EXPIRED') }),
    ],
    [
      'an AggregateError',
      'TransportError',
      'EHOSTUNREACH',
      new AggregateError([coded('EHOSTUNREACH')]),
    ],
    ['a plain string', 'TransportError', 'ERR_NETWORK', 'boom'],
  ])('maps %s to %s %s', (_name, name, code, error) => {
    const mapped = map(error);
    expect(isTransportError(mapped)).toBe(name === 'TransportError');
    expect(mapped).toMatchObject({ name, code, method: 'GET', attempt: 3 });
    expect(mapped.url).toBe('http://api.test/x?token=[REDACTED]');
    expect(mapped.cause).toBe(error);
  });

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'connect', 11],
    ['ETIMEDOUT', 'connect', 11],
    ['UND_ERR_HEADERS_TIMEOUT', 'headers', 22],
    ['UND_ERR_BODY_TIMEOUT', 'body', 33],
  ])('maps %s to a TimeoutError of phase %s with the deadline given', (code, phase, ms) => {
    const mapped = map(coded(code)) as TimeoutError;
    expect(isTimeoutError(mapped)).toBe(true);
    expect(mapped).toMatchObject({ phase, timeoutMs: ms });
  });

  it("names the transport's hint in a proxy 407, with a general one by default", () => {
    const refused = coded('UND_ERR_INVALID_ARG', 'Proxy Authentication Required (407)');
    expect(map(refused)).toMatchObject({ code: 'ERR_PROXY_AUTH_REQUIRED' });
    expect(map(refused).message).toContain('(407): check the proxy credentials (GET');
    expect(map(refused, 'see proxyAuth').message).toContain('(407): see proxyAuth');
  });

  it('reads code and message by shape, so errors from another realm map the same', () => {
    const foreign = { name: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' };
    expect(errorCode(foreign)).toBe('ECONNREFUSED');
    expect(errorMessage(foreign)).toBe('connect ECONNREFUSED');
    expect(errorCode({ code: 1 })).toBeUndefined();
    expect(errorMessage(42)).toBe('42');
  });
});

describe('callError', () => {
  const ctxOf = () =>
    createContext({
      request: {
        method: 'PUT',
        url: new URL('http://api.test/y'),
        headers: new Headers(),
        body: undefined,
      },
      attempt: 2,
    });

  it('maps a backend error with the call’s method, URL, attempt and the error as cause', () => {
    const cause = coded('ECONNREFUSED');
    const mapped = callError(cause, ctxOf(), (error, info) =>
      toNetworkError(error, info, timeouts),
    );
    expect(mapped).toMatchObject({ code: 'ECONNREFUSED', method: 'PUT', attempt: 2, cause });
    expect((mapped as ExtapiError).url).toBe('http://api.test/y');
  });

  it('gives the call’s abort reason once its scope aborted, and extapi errors as they are', () => {
    const ctx = ctxOf();
    const own = new TransportError('already mapped', 'ECONNRESET');
    expect(callError(own, ctx, () => 'mapped')).toBe(own);
    const reason = new Error('caller gave up');
    ctx.scope.abort(reason);
    expect(callError(coded('UND_ERR_ABORTED'), ctx, () => 'mapped')).toBe(reason);
  });
});
