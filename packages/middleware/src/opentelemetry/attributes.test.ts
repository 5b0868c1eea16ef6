import { createContext, redactUrl, TimeoutError, TransportError, type Context } from '@extapi/core';
import {
  defaultSpanName,
  errorType,
  fullUrl,
  redirectHops,
  requestAttributes,
  semconvMethod,
  serverPort,
} from './attributes.js';

function contextFor(method: string, url: string, pathTemplate?: string): Context {
  return createContext({
    request: { method, url: new URL(url), headers: new Headers(), body: undefined },
    meta: pathTemplate === undefined ? {} : { pathTemplate },
  });
}

describe('semconvMethod', () => {
  it.each([
    ['GET', 'GET'],
    ['POST', 'POST'],
    ['PATCH', 'PATCH'],
    ['QUERY', 'QUERY'],
    ['PURGE', '_OTHER'],
    ['get', '_OTHER'],
  ])('maps %s to %s', (method, expected) => {
    expect(semconvMethod(method)).toBe(expected);
  });
});

describe('defaultSpanName', () => {
  it.each([
    ['GET', '/items/:id', 'GET /items/:id'],
    ['POST', undefined, 'POST'],
    ['DELETE', '', 'DELETE'],
    ['PURGE', '/cache', 'HTTP'],
  ])('names a %s with template %p %p', (method, template, name) => {
    expect(defaultSpanName(contextFor(method, 'http://api.test/items/1', template))).toBe(name);
  });
});

describe('serverPort', () => {
  it.each([
    ['http://api.test/', 80],
    ['https://api.test/', 443],
    ['http://api.test:8080/', 8080],
  ])('gives %s the port %p', (url, port) => {
    expect(serverPort(new URL(url))).toBe(port);
  });
});

describe('errorType', () => {
  class QuotaError extends Error {}
  it.each([
    ['a TransportError', 'TransportError', new TransportError('refused', 'ECONNREFUSED')],
    ['a TimeoutError', 'TimeoutError', new TimeoutError(10)],
    ['a subclass of Error', 'QuotaError', new QuotaError('x')],
    ['an abort DOMException', 'AbortError', new DOMException('stop', 'AbortError')],
    ['a plain Error', 'Error', new Error('x')],
    ['a thrown string', '_OTHER', 'boom'],
  ])('names %s %s', (_label, expected, error) => {
    expect(errorType(error)).toBe(expected);
  });
});

describe('fullUrl', () => {
  it.each([
    ['http://api.test/items', 'http://api.test/items'],
    ['http://api.test/items?page=2&sort=asc', 'http://api.test/items?page=2&sort=asc'],
    ['https://user:pw@api.test/', 'https://api.test/'],
    ['https://user@api.test/x', 'https://api.test/x'],
    [
      'https://api.test/?access_token=abc&page=1',
      'https://api.test/?access_token=[REDACTED]&page=1',
    ],
    ['https://api.test/?sig=1&sig=2', 'https://api.test/?sig=[REDACTED]&sig=[REDACTED]'],
    ['https://api.test/a#frag', 'https://api.test/a#frag'],
  ])('writes %s as %s, as redactUrl does', (url, expected) => {
    expect(fullUrl(new URL(url))).toBe(expected);
    expect(fullUrl(new URL(url))).toBe(redactUrl(url));
  });
});

describe('requestAttributes', () => {
  it('describes the request with a redacted url.full and the template', () => {
    const ctx = contextFor(
      'GET',
      'https://user:pw@api.test/items/1?token=abc&page=2',
      '/items/:id',
    );
    expect(requestAttributes(ctx.request, ctx.meta.pathTemplate)).toEqual({
      'http.request.method': 'GET',
      'server.address': 'api.test',
      'server.port': 443,
      'url.full': 'https://api.test/items/1?token=[REDACTED]&page=2',
      'url.scheme': 'https',
      'url.template': '/items/:id',
    });
  });

  it('keeps an unknown method as http.request.method_original', () => {
    const ctx = contextFor('PURGE', 'http://api.test:8080/x');
    expect(requestAttributes(ctx.request, undefined)).toEqual({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
      'server.address': 'api.test',
      'server.port': 8080,
      'url.full': 'http://api.test:8080/x',
      'url.scheme': 'http',
    });
  });
});

describe('redirectHops', () => {
  it('is 0 when no redirect was followed', () => {
    const ctx = contextFor('GET', 'http://api.test/a');
    expect(redirectHops(ctx, undefined, 'http://api.test/a')).toBe(0);
  });

  it('counts the hops core recorded during the pass', () => {
    const ctx = contextFor('GET', 'http://api.test/a');
    (ctx.call as { redirectCount: number }).redirectCount = 2;
    expect(redirectHops(ctx, undefined, 'http://api.test/c')).toBe(2);
  });

  it('ignores a count left by an earlier attempt when this one was not redirected', () => {
    const ctx = contextFor('GET', 'http://api.test/a');
    (ctx.call as { redirectCount: number }).redirectCount = 1;
    expect(redirectHops(ctx, 1, 'http://api.test/a')).toBe(0);
  });

  it('counts the same number again when this attempt was redirected as well', () => {
    const ctx = contextFor('GET', 'http://api.test/a');
    (ctx.call as { redirectCount: number }).redirectCount = 1;
    expect(redirectHops(ctx, 1, 'http://api.test/b')).toBe(1);
  });
});
