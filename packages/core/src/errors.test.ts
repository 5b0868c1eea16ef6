import { inspect } from 'node:util';
import { HttpStatusError, recordAttempts, TransportError } from './errors.js';
import { errorName, isExtapiError, isHttpStatusError, isTransportError } from './error-guards.js';
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

  it('carry attempts (1 by default) and the earlier errors, which recordAttempts sets', () => {
    const first = new TransportError('reset', 'ECONNRESET', {
      method: 'GET',
      url: 'http://api.test/',
    });
    expect(first.attempts).toBe(1);
    expect(first.previousErrors).toEqual([]);
    const last = new TransportError('reset', 'ECONNRESET', {
      method: 'GET',
      url: 'http://api.test/',
    });
    expect(recordAttempts(last, 2, [first])).toBe(last);
    expect(last.attempts).toBe(2);
    expect(last.previousErrors).toEqual([first]);
    expect(Object.keys(last)).not.toContain('previousErrors');
    expect(last.toJSON()).toMatchObject({ attempts: 2 });
    const foreign = new TypeError('x');
    expect((recordAttempts(foreign, 3, []) as unknown as { attempts: number }).attempts).toBe(3);
    expect(recordAttempts('text', 3, [])).toBe('text');
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
