import { createContext } from '@extapi/core';
import {
  allowsAuthenticated,
  forbidsStale,
  requestHeaderRecord,
  storedRequestHeaders,
} from './policy.js';

describe('the policy bridge', () => {
  test.each([
    ['max-age=60, must-revalidate', true],
    ['no-cache', true],
    ['proxy-revalidate, max-age=1', true],
    ['max-age=60, stale-if-error=600', false],
    [undefined, false],
  ])('forbidsStale(%j) is %j', (value, expected) => {
    expect(forbidsStale(value)).toBe(expected);
  });

  test.each([
    ['public, max-age=60', true],
    ['s-maxage=60', true],
    ['max-age=60', false],
    ['private, max-age=60', false],
    [null, false],
  ])('allowsAuthenticated(%j) is %j', (value, expected) => {
    expect(allowsAuthenticated(value)).toBe(expected);
  });

  test('credentials reach the policy only as a hash; the stored subset is what Vary names', () => {
    const ctx = createContext({
      request: {
        method: 'GET',
        url: new URL('http://api.test/'),
        headers: new Headers({
          authorization: 'Bearer secret-token',
          'x-api-key': 'k-123',
          'accept-language': 'en',
          'user-agent': 'ua',
        }),
        body: undefined,
      },
    });
    const record = requestHeaderRecord(ctx);
    expect(record['accept-language']).toBe('en');
    expect(record.authorization).toMatch(/^sha256:/);
    expect(JSON.stringify(record)).not.toContain('secret-token');
    expect(JSON.stringify(record)).not.toContain('k-123');
    expect(Object.keys(storedRequestHeaders(record, 'Accept-Language')).sort()).toEqual([
      'accept-language',
      'authorization',
    ]);
  });
});
