import { isConfigError } from '@extapi/core';
import { decodeEntry, encodeEntry } from './redis-store.js';
import { type CacheEntry, memoryStore } from './store.js';

const entry = (bytes: number, url = 'http://api.test/'): CacheEntry => ({
  policy: { v: 1 },
  status: 200,
  statusText: 'OK',
  url,
  body: new Uint8Array(bytes),
});

describe('memoryStore()', () => {
  test('keeps entries within maxBytes, dropping the least recently used first', async () => {
    const store = memoryStore({ maxBytes: 1000 });
    await store.set('a', entry(300), 60_000);
    await store.set('b', entry(300), 60_000);
    await store.get('a'); // a is now more recent than b
    await store.set('c', entry(300), 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(await store.get('c')).toBeDefined();
    expect(store.size).toBe(2);
    expect(store.bytes).toBeLessThanOrEqual(1000);
  });

  test('does not keep an entry larger than maxBytes, nor one with no time to live', async () => {
    const store = memoryStore({ maxBytes: 1000 });
    await store.set('big', entry(2000), 60_000);
    await store.set('none', entry(10), 0);
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  test('drops an entry once its time to live has passed', async () => {
    let now = 0;
    const store = memoryStore({ now: () => now });
    await store.set('a', entry(10), 1000);
    now = 999;
    expect(await store.get('a')).toBeDefined();
    now = 1000;
    expect(await store.get('a')).toBeUndefined();
    expect([store.size, store.bytes]).toEqual([0, 0]);
  });

  test('replacing and deleting keep the byte count exact', async () => {
    const store = memoryStore();
    await store.set('a', entry(100), 1000);
    const one = store.bytes;
    await store.set('a', entry(100), 1000);
    expect(store.bytes).toBe(one);
    await store.delete('a');
    await store.delete('missing');
    expect([store.size, store.bytes]).toEqual([0, 0]);
  });

  test('bad options throw ConfigError naming the option', () => {
    expect(() => memoryStore({ maxBytes: 0 })).toThrow(/maxBytes/);
    const error = (() => {
      try {
        memoryStore({ maxByte: 1 } as never);
      } catch (e) {
        return e;
      }
    })();
    expect(isConfigError(error) && error.message).toMatch(/did you mean maxBytes/);
  });
});

describe('the Redis store encoding', () => {
  test('an entry survives encode and decode, body byte for byte', () => {
    const body = Uint8Array.from({ length: 256 }, (_, i) => i);
    const original = { ...entry(0, 'http://api.test/é'), body, policy: { v: 1, resh: { a: 'b' } } };
    const decoded = decodeEntry(encodeEntry(original));
    expect(decoded).toEqual({ ...original, body: expect.any(Uint8Array) });
    expect(Buffer.from(decoded!.body).equals(Buffer.from(body))).toBe(true);
  });

  test('bytes that are not an entry decode to undefined', () => {
    expect(decodeEntry(Buffer.from([0, 0]))).toBeUndefined();
    expect(decodeEntry(Buffer.from([0, 0, 1, 0, 1]))).toBeUndefined();
  });
});
