import { createClient, isExtapiError } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { concurrencyLimit } from './concurrency-limit.js';
import { rateLimit } from './rate-limit.js';

// As for a user who never installed the optional peers.
jest.mock('ioredis', () => {
  throw new Error("Cannot find module 'ioredis'");
});
jest.mock('redis-semaphore', () => {
  throw new Error("Cannot find module 'redis-semaphore'");
});

describe('limits without ioredis and redis-semaphore installed', () => {
  test('the local modes work', async () => {
    const transport = mockTransport();
    const client = createClient([
      concurrencyLimit({ max: 2 }),
      rateLimit({ limit: 100, windowMs: 1000 }),
      transport,
    ]);
    await Promise.all([client.get('http://api.test/'), client.get('http://api.test/')]);
    expect(transport.requests).toHaveLength(2);
  });

  test('a Redis URL rejects the call with an error that says what to install', async () => {
    const limit = rateLimit({
      limit: 1,
      windowMs: 1000,
      redis: 'redis://127.0.0.1:1',
      id: 'x',
      onRedisError: 'local',
    });
    const client = createClient([limit, mockTransport()]);
    const error = await client.get('http://api.test/').catch((e: unknown) => e);
    expect(isExtapiError(error)).toBe(true);
    expect((error as Error).message).toContain('npm install ioredis');
    await limit.close();
  });
});
