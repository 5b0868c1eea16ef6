import {
  DEFAULT_SENSITIVE_HEADERS,
  isSecretName,
  isSensitiveHeader,
  redactHeaders,
  redactPath,
  redactText,
  redactUrl,
} from './redact.js';

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

describe('one list of secrets', () => {
  it.each([
    ['pwd', 'pass', 'passphrase', 'jwt', 'session', 'sid', 'code', 'otp', 'client_assertion'],
  ])('redacts the query names %s and the rest of the list', (...names: string[]) => {
    for (const name of names) {
      expect(redactUrl(`https://api.test/a?${name}=S3CRET&page=1`)).toBe(
        `https://api.test/a?${name}=[REDACTED]&page=1`,
      );
    }
  });

  it.each([
    [
      'https://api.test/a;api_key=S3CRET/b?page=1',
      'https://api.test/a;api_key=[REDACTED]/b?page=1',
    ],
    ['https://api.test/a?page=1;api_key=S3CRET', 'https://api.test/a?page=1;api_key=[REDACTED]'],
    [
      'https://app.test/cb#access_token=S3CRET&expires_in=3600&state=x',
      'https://app.test/cb#access_token=[REDACTED]&expires_in=3600&state=x',
    ],
    ['https://app.test/#/cb?code=S3CRET', 'https://app.test/#/cb?code=[REDACTED]'],
    ['https://app.test/a#section-2', 'https://app.test/a#section-2'],
    ['https://api.test/a?q=a%20b&x=%2F', 'https://api.test/a?q=a%20b&x=%2F'],
  ])('redacts %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(new URL(input))).toBe(expected);
  });

  it('leaves a URL object it was given unchanged', () => {
    const url = new URL('https://u:p@api.test/a?token=t');
    redactUrl(url);
    expect(url.href).toBe('https://u:p@api.test/a?token=t');
  });

  it('cuts a string that is not a URL at ? and # and drops its userinfo', () => {
    expect(redactUrl('http://u:p@[bad/a?token=t')).toBe('http://[bad/a?[REDACTED]');
    expect(redactUrl('/a#access_token=t')).toBe('/a#[REDACTED]');
  });

  it.each([
    'Authorization',
    'proxy-authorization',
    'Cookie',
    'set-cookie',
    'X-API-Key',
    'api-key',
    'Private-Token',
    'x-goog-api-key',
    'x-auth-token',
  ])('treats the header %s as sensitive', (name) => {
    expect(isSensitiveHeader(name)).toBe(true);
    expect(DEFAULT_SENSITIVE_HEADERS).toContain(name.toLowerCase());
    // The same names count as secret fields of a body or a query.
    expect(isSecretName(name)).toBe(true);
  });

  it('adds configured header names to the defaults', () => {
    expect(isSensitiveHeader('X-Partner-Secret', new Set(['x-partner-secret']))).toBe(true);
    expect(isSensitiveHeader('accept', new Set(['x-partner-secret']))).toBe(false);
    expect(isSecretName('x-partner', new Set(['x-partner']))).toBe(true);
  });

  it.each(['page', 'q', 'sort', 'country', 'codec', 'status'])('keeps %s', (name) => {
    expect(isSecretName(name)).toBe(false);
  });

  it('redacts URLs in free text', () => {
    expect(redactText('failed: https://u:p@x.test/a?sid=1 and redis://u:pw@r:6379')).toBe(
      'failed: https://x.test/a?sid=[REDACTED] and redis://r:6379',
    );
  });

  it('redacts path parameters alone', () => {
    expect(redactPath('/v1;jwt=abc;v=2/items')).toBe('/v1;jwt=[REDACTED];v=2/items');
  });
});
