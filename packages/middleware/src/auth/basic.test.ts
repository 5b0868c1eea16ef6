import { createClient, isConfigError } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { basicAuth } from './basic.js';

const URL_ = 'http://api.test/me';

describe('basicAuth()', () => {
  test('returns a named async function', () => {
    expect(basicAuth({ username: 'u', password: 'p' }).name).toBe('basicAuth');
  });

  test.each<[string, string, string]>([
    // RFC 7617 §2's own example.
    ['Aladdin', 'open sesame', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    // RFC 7617 §2.1's UTF-8 example: "test" / "123£".
    ['test', '123\u00a3', 'Basic dGVzdDoxMjPCow=='],
    ['user', '', 'Basic dXNlcjo='],
    ['user', 'pa:ss:word', `Basic ${Buffer.from('user:pa:ss:word').toString('base64')}`],
    // NFC: "e" + combining acute becomes "é" before encoding.
    ['Ame\u0301lie', 'x', `Basic ${Buffer.from('Am\u00e9lie:x', 'utf8').toString('base64')}`],
  ])('encodes %s / %s as %s', async (username, password, expected) => {
    const transport = mockTransport();
    await createClient([basicAuth({ username, password }), transport]).get(URL_);
    expect(transport.requests[0]!.headers.authorization).toBe(expected);
  });

  test('marks the header sensitive and replaces an Authorization the caller set', async () => {
    const transport = mockTransport();
    await createClient([basicAuth({ username: 'a', password: 'b' }), transport]).get(URL_, {
      headers: { authorization: 'Bearer other' },
    });
    expect(transport.requests[0]!.headers.authorization).toBe(`Basic ${btoa('a:b')}`);
    expect(transport.requests[0]!.ctx.sensitiveHeaders.has('authorization')).toBe(true);
  });

  test.each<[string, unknown, string]>([
    ['a username with a colon', { username: 'a:b', password: 'p' }, 'username'],
    ['a username with a newline', { username: 'a\nb', password: 'p' }, 'username'],
    ['a missing username', { password: 'p' }, 'username'],
    ['a password with a control character', { username: 'a', password: 'p\u0000' }, 'password'],
    ['a missing password', { username: 'a' }, 'password'],
    ['no options', undefined, 'options'],
  ])('refuses %s at creation', (_name, options, option) => {
    let error: unknown;
    try {
      basicAuth(options as never);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });

  test('keeps the password out of the error message', () => {
    expect(() => basicAuth({ username: 'a', password: 'hunter2\r' })).toThrow(/\[REDACTED\]/);
    expect(() => basicAuth({ username: 'a', password: 'hunter2\r' })).not.toThrow(/hunter2/);
  });
});
