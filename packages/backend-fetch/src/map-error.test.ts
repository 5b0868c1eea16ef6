// Table tests of mapFetchError: each shape of error fetch produces, and the extapi error it becomes.
// The codes are the undici transport's, so a caller switching on `code` sees one set for both.
import { createContext, type Context, ExtapiError, TimeoutError } from '@extapi/core';
import { mapFetchError } from './map-error.js';

function context(signal?: AbortSignal): Context {
  return createContext({
    request: {
      method: 'POST',
      url: new URL('http://api.test/items?token=secret'),
      headers: new Headers(),
      body: undefined,
    },
    ...(signal ? { signal } : {}),
    attempt: 2,
  });
}

function fetchFailed(cause: unknown, message = 'fetch failed'): TypeError {
  return new TypeError(message, { cause });
}

function coded(code: string, message = `${code} happened`): Error {
  return Object.assign(new Error(message), { code });
}

describe('mapFetchError', () => {
  it.each([
    ['ECONNREFUSED', 'TransportError', 'ECONNREFUSED', coded('ECONNREFUSED')],
    ['ECONNRESET', 'TransportError', 'ECONNRESET', coded('ECONNRESET')],
    ['EPIPE', 'TransportError', 'ECONNRESET', coded('EPIPE')],
    [
      'UND_ERR_SOCKET',
      'TransportError',
      'ECONNRESET',
      coded('UND_ERR_SOCKET', 'other side closed'),
    ],
    ['ENOTFOUND', 'TransportError', 'ENOTFOUND', coded('ENOTFOUND')],
    ['a TLS code', 'TransportError', 'CERT_HAS_EXPIRED', coded('CERT_HAS_EXPIRED')],
    ['UND_ERR_CLOSED', 'TransportError', 'ERR_TRANSPORT_CLOSED', coded('UND_ERR_CLOSED')],
    ['UND_ERR_DESTROYED', 'TransportError', 'ERR_TRANSPORT_CLOSED', coded('UND_ERR_DESTROYED')],
    [
      'a content-length mismatch',
      'TransportError',
      'ERR_CONTENT_LENGTH_MISMATCH',
      coded('UND_ERR_RES_CONTENT_LENGTH_MISMATCH'),
    ],
    ['UND_ERR_ABORTED', 'TransportError', 'ECONNABORTED', coded('UND_ERR_ABORTED')],
    ['UND_ERR_INVALID_ARG', 'ExtapiError', 'ERR_INVALID_REQUEST', coded('UND_ERR_INVALID_ARG')],
    [
      'a 407 from a proxy in absolute form',
      'TransportError',
      'ERR_PROXY_AUTH_REQUIRED',
      coded('UND_ERR_INVALID_ARG', 'Proxy Authentication Required (407)'),
    ],
    [
      'a 407 to CONNECT',
      'TransportError',
      'ERR_PROXY_AUTH_REQUIRED',
      coded('UND_ERR_ABORTED', 'Proxy response (407) !== 200 when HTTP Tunneling'),
    ],
    [
      'another refused CONNECT',
      'TransportError',
      'ERR_PROXY_CONNECT',
      coded('UND_ERR_ABORTED', 'Proxy response (403) !== 200 when HTTP Tunneling'),
    ],
    [
      'a TLS error behind a tunnel',
      'TransportError',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      Object.assign(coded('UND_ERR_PRX_TLS', 'Secure Proxy Connection failed'), {
        cause: coded('ERR_TLS_CERT_ALTNAME_INVALID'),
      }),
    ],
    [
      'an AggregateError of ECONNREFUSED',
      'TransportError',
      'ECONNREFUSED',
      new AggregateError([coded('ECONNREFUSED')], ''),
    ],
    [
      'a zlib error',
      'ExtapiError',
      'ERR_CONTENT_DECODING',
      coded('Z_DATA_ERROR', 'invalid block type'),
    ],
    ['a brotli error', 'ExtapiError', 'ERR_CONTENT_DECODING', coded('ERR__ERROR_FORMAT_CL_SPACE')],
    ['a cause without a code', 'TransportError', 'ERR_NETWORK', new Error('body broke')],
    [
      'too many content-encodings',
      'ExtapiError',
      'ERR_CONTENT_ENCODING',
      new Error('too many content-encodings in response: 6, maximum allowed is 5'),
    ],
  ])('maps fetch failed caused by %s to %s %s', (_name, name, code, cause) => {
    const error = mapFetchError(fetchFailed(cause), context()) as ExtapiError;
    expect(error).toMatchObject({
      name,
      code,
      method: 'POST',
      attempt: 2,
      url: 'http://api.test/items?token=[REDACTED]',
    });
    expect(error.cause).toMatchObject({ name: 'TypeError', cause });
  });

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'connect', 10_000],
    ['ETIMEDOUT', 'connect', 10_000],
    ['UND_ERR_HEADERS_TIMEOUT', 'headers', 300_000],
    ['UND_ERR_BODY_TIMEOUT', 'body', 300_000],
  ])('maps %s to TimeoutError phase %s with undici default deadline', (code, phase, timeoutMs) => {
    const error = mapFetchError(fetchFailed(coded(code)), context());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT', phase, timeoutMs, method: 'POST' });
  });

  it('maps a body read that ended with terminated to ECONNRESET, with or without a cause', () => {
    expect(
      mapFetchError(fetchFailed(coded('UND_ERR_SOCKET'), 'terminated'), context()),
    ).toMatchObject({
      name: 'TransportError',
      code: 'ECONNRESET',
    });
    expect(mapFetchError(new TypeError('terminated'), context())).toMatchObject({
      name: 'TransportError',
      code: 'ECONNRESET',
    });
  });

  it.each([
    [
      "Bun's refusal (the code on the TypeError, no cause)",
      Object.assign(new TypeError('ECONNREFUSED: Unable to connect.'), { code: 'ECONNREFUSED' }),
      'ECONNREFUSED',
    ],
    [
      "Bun's reset",
      Object.assign(new TypeError('ECONNRESET: The socket connection was closed unexpectedly.'), {
        code: 'ECONNRESET',
      }),
      'ECONNRESET',
    ],
    [
      "Deno's refusal (words in a cause without a code)",
      fetchFailed(
        new Error(
          'error sending request for url (http://api.test/items?token=secret): client error (Connect): tcp connect error: Connection refused (os error 111)',
        ),
      ),
      'ECONNREFUSED',
    ],
    [
      "Deno's reset",
      fetchFailed(new Error('Connection reset by peer (os error 104)')),
      'ECONNRESET',
    ],
    [
      "Deno's body cut by the connection closing (no cause)",
      new TypeError('error reading a body from connection'),
      'ECONNRESET',
    ],
  ])('maps %s to TransportError %s, with no URL from its message', (_name, thrown, code) => {
    const error = mapFetchError(thrown, context()) as ExtapiError;
    expect(error).toMatchObject({ name: 'TransportError', code, method: 'POST' });
    expect(error.message).not.toContain('secret');
  });

  it.each([
    ["Chromium's", 'Failed to fetch'],
    ["Chromium's for a body cut", 'network error'],
    ["Firefox's", 'NetworkError when attempting to fetch resource.'],
    ["Safari's", 'Load failed'],
  ])(
    'maps %s network failure (a TypeError in words, no cause) to TransportError ERR_NETWORK',
    (_name, words) => {
      expect(mapFetchError(new TypeError(words), context())).toMatchObject({
        name: 'TransportError',
        code: 'ERR_NETWORK',
        method: 'POST',
      });
    },
  );

  it('maps a TypeError without a cause to ERR_INVALID_REQUEST: fetch refused its input', () => {
    const error = mapFetchError(
      new TypeError('Request with GET/HEAD method cannot have body.'),
      context(),
    );
    expect(error).toMatchObject({ name: 'ExtapiError', code: 'ERR_INVALID_REQUEST' });
    expect((error as Error).message).toContain('cannot have body');
  });

  it('returns the signal reason once the signal aborted, whatever fetch threw', () => {
    const reason = { why: 'caller' };
    const controller = new AbortController();
    controller.abort(reason);
    expect(mapFetchError(new TypeError('terminated'), context(controller.signal))).toBe(reason);
  });

  it('passes an extapi error, or one fetch wrapped, through unchanged', () => {
    const own = new ExtapiError('ours', 'ERR_OURS');
    expect(mapFetchError(own, context())).toBe(own);
    expect(mapFetchError(fetchFailed(own), context())).toBe(own);
  });

  it('keeps the code of a non-TypeError a custom fetch rejects with, else ERR_NETWORK', () => {
    expect(mapFetchError(coded('ECONNREFUSED'), context())).toMatchObject({
      name: 'TransportError',
      code: 'ECONNREFUSED',
    });
    expect(mapFetchError('plain string', context())).toMatchObject({
      name: 'TransportError',
      code: 'ERR_NETWORK',
    });
  });
});
