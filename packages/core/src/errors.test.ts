import { inspect } from 'node:util';
import {
  errorName,
  ExtapiError,
  HttpStatusError,
  isExtapiError,
  isHttpStatusError,
  isRetryError,
  isTransportError,
  RetryError,
  TransportError,
} from './errors.js';
import { createResponse } from './response.js';

describe('errors', () => {
  it('carry code, cause, method and a redacted URL in the message', () => {
    const cause = new Error('socket hang up');
    const error = new TransportError('Connection reset', 'ECONNRESET', {
      method: 'GET',
      url: 'https://user:pw@api.test/x?sig=SECRET&page=2',
      cause,
    });
    expect(error.code).toBe('ECONNRESET');
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('Connection reset (GET https://api.test/x?sig=[REDACTED]&page=2)');
    expect(error.name).toBe('TransportError');
  });

  it('never show a secret through String, JSON or inspect', () => {
    const res = createResponse({
      status: 401,
      headers: new Headers({ 'www-authenticate': 'Bearer' }),
      url: 'https://api.test/x?token=SECRET',
      method: 'GET',
      body: Buffer.from('denied'),
    });
    const error = new HttpStatusError(res);
    for (const text of [String(error), JSON.stringify(error), inspect(error, { depth: 10 })]) {
      expect(text).not.toContain('SECRET');
    }
    expect(error.response).toBe(res);
    expect(error.status).toBe(401);
  });

  it('are recognised by guards across copies of core (a brand, not instanceof)', () => {
    const foreign = Object.assign(Object.create(Error.prototype), { name: 'TransportError' });
    Object.defineProperty(foreign, Symbol.for('extapi.error'), { value: true });
    expect(isTransportError(foreign)).toBe(true);
    expect(isExtapiError(new Error('x'))).toBe(false);
    expect(isHttpStatusError(new TransportError('x', 'E'))).toBe(false);
  });

  it('RetryError keeps every attempt error and the last as cause', () => {
    const errors = [new Error('one'), new Error('two')];
    const error = new RetryError(errors, { method: 'POST', url: 'http://api.test/' });
    expect(isRetryError(error)).toBe(true);
    expect(error).toBeInstanceOf(ExtapiError);
    expect(error.attempts).toBe(2);
    expect(error.errors).toEqual(errors);
    expect(error.cause).toBe(errors[1]);
    expect(error.message).toMatch(/^Gave up after 2 attempt\(s\): two/);
  });
});

describe('errorName', () => {
  it.each([
    ['a subclass by its class name', new TransportError('x', 'ECONNRESET'), 'TransportError'],
    ['a built-in subclass by its class name', new TypeError('x'), 'TypeError'],
    ['a DOMException by its name', new DOMException('stop', 'AbortError'), 'AbortError'],
    [
      'a plain Error with a name set by that name',
      Object.assign(new Error('x'), { name: 'Custom' }),
      'Custom',
    ],
    ['a bare object without a name as undefined', Object.create(null), undefined],
    ['a string as undefined', 'boom', undefined],
  ])('names %s', (_title, error, expected) => {
    expect(errorName(error)).toBe(expected);
  });
});
