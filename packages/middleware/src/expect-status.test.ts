import { Readable } from 'node:stream';
import { createClient, type HttpStatusError, isConfigError, isHttpStatusError } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { expectStatus } from './expect-status.js';

const URL_ = 'http://api.test/items';

async function failure(promise: Promise<unknown>): Promise<HttpStatusError> {
  const error = await promise.catch((e: unknown) => e);
  expect(isHttpStatusError(error)).toBe(true);
  return error as HttpStatusError;
}

describe('expectStatus()', () => {
  test('returns a named async function', () => {
    expect(expectStatus().name).toBe('expectStatus');
  });

  test.each([200, 201, 202, 204, 206, 299])('accepts every 2xx by default: %i', async (status) => {
    const client = createClient([expectStatus(), mockTransport([{ status }])]);
    expect((await client.get(URL_)).status).toBe(status);
  });

  test.each([100, 199, 300, 301, 404, 500])(
    'throws an HttpStatusError for %i by default',
    async (status) => {
      const client = createClient([expectStatus(), mockTransport([{ status }])]);
      const error = await failure(client.get(URL_, { redirect: 'manual' }));
      expect(error.status).toBe(status);
      expect(error.message).toContain(`Unexpected HTTP status ${status}, expected 2xx`);
      expect(error.message).toContain('GET http://api.test/items');
    },
  );

  test('accepts the listed statuses only', async () => {
    const client = createClient([
      expectStatus([204]),
      mockTransport([{ status: 204 }, { status: 200 }]),
    ]);
    expect((await client.get(URL_)).status).toBe(204);
    expect((await failure(client.get(URL_))).status).toBe(200);
  });

  test('accepts what a predicate accepts', async () => {
    const client = createClient([
      expectStatus((status) => status < 400),
      mockTransport([{ status: 302 }, { status: 404 }]),
    ]);
    expect((await client.get(URL_, { redirect: 'manual' })).status).toBe(302);
    expect((await failure(client.get(URL_))).status).toBe(404);
  });

  test('carries the response with its body already read', async () => {
    const client = createClient([
      expectStatus([200]),
      mockTransport([{ status: 422, body: { field: 'name' } }]),
    ]);
    const error = await failure(client.get(URL_));
    expect(error.response.bodyRead).toBe(true);
    expect(await error.response.json()).toEqual({ field: 'name' });
    // The response is not enumerable, so logging the error stays small.
    expect(Object.keys(error)).not.toContain('response');
  });

  test('reads a body a layer inside left unread when the call reads bodies', async () => {
    const client = createClient([
      expectStatus([200]),
      mockTransport([{ status: 500, body: Readable.from([Buffer.from('stack trace')]) }]),
    ]);
    const error = await failure(client.get(URL_));
    expect(error.response.bodyRead).toBe(true);
    expect(await error.response.text()).toBe('stack trace');
  });

  test('leaves a streamed body to the caller with readBody: false', async () => {
    const body = Readable.from([Buffer.from('stream')]);
    const client = createClient([expectStatus([200]), mockTransport([{ status: 500, body }])]);
    const error = await failure(client.get(URL_, { readBody: false }));
    expect(error.response.bodyRead).toBe(false);
    expect(await error.response.text()).toBe('stream');
  });

  test.each<[string, unknown, string]>([
    ['an empty list', [], 'statuses'],
    ['a status out of range', [200, 600], 'statuses[1]'],
    ['a fractional status', [200.5], 'statuses[0]'],
    ['a string', '200', 'statuses'],
  ])('refuses %s at creation', (_name, statuses, option) => {
    let error: unknown;
    try {
      expectStatus(statuses as number[]);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });
});
