import { redactHeaders, redactUrl } from './redact.js';

describe('redaction', () => {
  it.each([
    ['https://u:p@api.test/a', 'https://api.test/a'],
    [
      'https://api.test/a?token=t&api_key=k&page=1',
      'https://api.test/a?token=[REDACTED]&api_key=[REDACTED]&page=1',
    ],
    [
      'https://api.test/a?sig=1&Signature=2&password=3',
      'https://api.test/a?sig=[REDACTED]&Signature=[REDACTED]&password=[REDACTED]',
    ],
    ['https://api.test/a?q=token', 'https://api.test/a?q=token'],
  ])('redacts %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it('redacts extra query names', () => {
    expect(redactUrl('http://x/?tenant=a', new Set(['tenant']))).toBe(
      'http://x/?tenant=[REDACTED]',
    );
  });

  it('redacts sensitive headers in any letter case', () => {
    const headers = new Headers({
      Authorization: 'Bearer t',
      'X-API-KEY': 'k',
      Cookie: 'c',
      Accept: '*/*',
      'X-Mine': 'm',
    });
    expect(redactHeaders(headers, new Set(['x-mine']))).toEqual({
      accept: '*/*',
      authorization: '[REDACTED]',
      cookie: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      'x-mine': '[REDACTED]',
    });
  });
});
