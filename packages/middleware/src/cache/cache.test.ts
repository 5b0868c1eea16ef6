import {
  CircuitOpenError,
  createClient,
  isCircuitOpenError,
  isHttpStatusError,
  TimeoutError,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { expectStatus } from '../expect-status.js';
import { cache } from './cache.js';
import { CACHE_STATUS_HEADER } from './respond.js';

const FRESH_THEN_STALE = {
  status: 200,
  headers: { 'cache-control': 'max-age=1, stale-if-error=600' },
  body: 'stored',
};

describe('cache() stale-if-error (unit, mock transport)', () => {
  let clock = 0;
  beforeEach(() => {
    clock = Date.now();
  });

  test.each([
    ['CircuitOpenError', { error: new CircuitOpenError('http://api.test') }],
    ['TimeoutError', { error: new TimeoutError(100, { phase: 'headers' }) }],
  ])('a %s in the refresh is answered with the stale entry', async (_name, failure) => {
    const transport = mockTransport([FRESH_THEN_STALE, failure]);
    const client = createClient([cache({ now: () => clock }), transport]);
    await client.get('http://api.test/r');
    clock += 2_000;
    const res = await client.get('http://api.test/r');
    expect([res.headers.get(CACHE_STATUS_HEADER), await res.text()]).toEqual(['STALE', 'stored']);
    expect(transport.requests).toHaveLength(2);
  });

  test('an HttpStatusError 503 from expectStatus below is answered with the stale entry', async () => {
    const transport = mockTransport([FRESH_THEN_STALE, { status: 503, body: 'down' }]);
    const client = createClient([cache({ now: () => clock }), expectStatus(), transport]);
    await client.get('http://api.test/r');
    clock += 2_000;
    const res = await client.get('http://api.test/r');
    expect([res.status, res.headers.get(CACHE_STATUS_HEADER)]).toEqual([200, 'STALE']);
  });

  test('past stale-if-error the failure reaches the caller', async () => {
    const transport = mockTransport([FRESH_THEN_STALE, { status: 503 }]);
    const client = createClient([cache({ now: () => clock }), expectStatus(), transport]);
    await client.get('http://api.test/r');
    clock += 700_000;
    const error = await client.get('http://api.test/r').catch((e: unknown) => e);
    expect(isHttpStatusError(error) && error.status).toBe(503);
  });

  test('a 4xx in the refresh is never answered from the cache', async () => {
    const transport = mockTransport([FRESH_THEN_STALE, { status: 404 }]);
    const client = createClient([cache({ now: () => clock }), expectStatus(), transport]);
    await client.get('http://api.test/r');
    clock += 2_000;
    const error = await client.get('http://api.test/r').catch((e: unknown) => e);
    expect(isHttpStatusError(error) && error.status).toBe(404);
  });

  test("a caller's abort is never answered from the cache", async () => {
    const transport = mockTransport([FRESH_THEN_STALE, { delayMs: 10_000 }]);
    const client = createClient([cache({ now: () => clock }), transport]);
    await client.get('http://api.test/r');
    clock += 2_000;
    const controller = new AbortController();
    const pending = client.get('http://api.test/r', { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
  });

  test('without stale-if-error a CircuitOpenError reaches the caller', async () => {
    const transport = mockTransport([
      { status: 200, headers: { 'cache-control': 'max-age=1' } },
      { error: new CircuitOpenError('http://api.test') },
    ]);
    const client = createClient([cache({ now: () => clock }), transport]);
    await client.get('http://api.test/r');
    clock += 2_000;
    const error = await client.get('http://api.test/r').catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
  });
});
