import { createClient, isConfigError } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { headers } from './headers.js';
import { retry } from './retry/index.js';

const URL_ = 'http://api.test/items';

describe('headers()', () => {
  test('returns a named async function for a record and for a function', () => {
    expect(headers({ a: '1' }).name).toBe('headers');
    expect(headers(() => {}).name).toBe('headers');
  });

  test('sets the headers of a record, replacing rather than appending', async () => {
    const transport = mockTransport();
    const client = createClient([
      headers({ 'X-App': 'billing', accept: 'application/json' }),
      transport,
    ]);
    await client.get(URL_, { headers: { accept: 'text/plain', 'x-other': 'kept' } });
    expect(transport.requests[0]!.headers).toMatchObject({
      'x-app': 'billing',
      accept: 'application/json',
      'x-other': 'kept',
    });
  });

  test('lets a sync function edit the headers with the context at hand', async () => {
    const transport = mockTransport();
    const client = createClient([
      headers((h, ctx) => {
        h.set('x-method', ctx.request.method);
        h.delete('x-drop');
      }),
      transport,
    ]);
    await client.post(URL_, { body: 'x', headers: { 'x-drop': '1' } });
    expect(transport.requests[0]!.headers['x-method']).toBe('POST');
    expect(transport.requests[0]!.headers['x-drop']).toBeUndefined();
  });

  test('waits for an async function', async () => {
    const transport = mockTransport();
    const client = createClient([
      headers(async (h) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        h.set('x-signed', 'sig');
      }),
      transport,
    ]);
    await client.get(URL_);
    expect(transport.requests[0]!.headers['x-signed']).toBe('sig');
  });

  test('rejects the call when the function throws', async () => {
    const transport = mockTransport();
    const client = createClient([
      headers(() => {
        throw new Error('no key');
      }),
      transport,
    ]);
    await expect(client.get(URL_)).rejects.toThrow('no key');
    expect(transport.requests).toHaveLength(0);
  });

  test('runs per attempt after retry(), with fresh headers each time', async () => {
    const transport = mockTransport([{ status: 503 }, { status: 503 }, { status: 200 }]);
    let calls = 0;
    const client = createClient([
      retry({ sleep: async () => {} }),
      headers((h, ctx) => {
        calls++;
        // append, to prove the headers are a fresh copy on each attempt
        h.append('x-attempt', String(ctx.attempt));
      }),
      transport,
    ]);
    await client.get(URL_);
    expect(calls).toBe(3);
    expect(transport.requests.map((r) => r.headers['x-attempt'])).toEqual(['1', '2', '3']);
  });

  test('runs once per call before retry()', async () => {
    const transport = mockTransport([{ status: 503 }, { status: 200 }]);
    let calls = 0;
    const client = createClient([
      headers(() => void calls++),
      retry({ sleep: async () => {} }),
      transport,
    ]);
    await client.get(URL_);
    expect(calls).toBe(1);
    expect(transport.requests).toHaveLength(2);
  });

  test('ignores inherited properties of the record', async () => {
    const record = Object.create({ 'x-inherited': 'bad' }) as Record<string, string>;
    record['x-own'] = 'good';
    const transport = mockTransport();
    await createClient([headers(record), transport]).get(URL_);
    expect(transport.requests[0]!.headers['x-own']).toBe('good');
    expect(transport.requests[0]!.headers['x-inherited']).toBeUndefined();
  });

  test.each<[string, unknown, string]>([
    ['a value with CR LF', { 'x-a': 'v\r\nx-b: injected' }, 'patch.x-a'],
    ['an invalid name', { 'bad name': 'v' }, 'patch.bad name'],
    ['a number value', { 'x-n': 5 }, 'patch.x-n'],
    ['null', null, 'patch'],
    ['an array', [['a', 'b']], 'patch'],
  ])('refuses %s at creation', (_name, patch, option) => {
    let error: unknown;
    try {
      headers(patch as never);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });
});
