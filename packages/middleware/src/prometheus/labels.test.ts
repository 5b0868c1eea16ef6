import { HttpStatusError, TimeoutError, TransportError } from '@extapi/core';
import { createPathCap, effectivePort, errorClassName, OTHER_PATH } from './labels.js';

describe('effectivePort', () => {
  it.each([
    ['http://api.test/', '80'],
    ['https://api.test/', '443'],
    ['http://api.test:8080/', '8080'],
    ['https://api.test:8443/x', '8443'],
    ['http://api.test:80/', '80'],
    ['https://[::1]/', '443'],
  ])('gives %s the port %s', (url, port) => {
    expect(effectivePort(new URL(url))).toBe(port);
  });
});

describe('errorClassName', () => {
  class CustomFailure extends Error {}

  it.each([
    ['a TransportError', 'TransportError', new TransportError('refused', 'ECONNREFUSED')],
    ['a TimeoutError', 'TimeoutError', new TimeoutError(10)],
    ['a TypeError', 'TypeError', new TypeError('bad')],
    ['a subclass that keeps the name Error', 'CustomFailure', new CustomFailure('x')],
    ['an abort DOMException', 'AbortError', new DOMException('aborted', 'AbortError')],
    ['a plain Error', 'Error', new Error('x')],
    ['a thrown string', 'string', 'boom'],
    ['a thrown undefined', 'undefined', undefined],
    ['a null', 'object', null],
    ['an object without a prototype', 'Error', Object.create(null)],
  ])('names %s %s', (_label, name, error) => {
    expect(errorClassName(error)).toBe(name);
  });

  it('names an HttpStatusError by its class', () => {
    const response = { status: 500, method: 'GET', url: 'http://x/' } as never;
    expect(errorClassName(new HttpStatusError(response))).toBe('HttpStatusError');
  });
});

describe('createPathCap', () => {
  it('lets the first max distinct paths through and labels later new ones other', () => {
    const cap = createPathCap(2);
    expect(['/a', '/b', '/c', '/a', '/b', '/d'].map(cap)).toEqual([
      '/a',
      '/b',
      OTHER_PATH,
      '/a',
      '/b',
      OTHER_PATH,
    ]);
  });

  it('counts a repeated path once', () => {
    const cap = createPathCap(2);
    expect(['/a', '/a', '/a', '/b', '/c'].map(cap)).toEqual(['/a', '/a', '/a', '/b', OTHER_PATH]);
  });
});
