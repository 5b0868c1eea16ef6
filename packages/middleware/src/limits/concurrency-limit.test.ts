import { PassThrough, Readable } from 'node:stream';
import {
  createClient,
  createResponse,
  isConfigError,
  isQueueFullError,
  MAX_TIMER_MS,
  type Middleware,
  TimeoutError,
  TransportError,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { concurrencyLimit } from './concurrency-limit.js';
import { createLocalSlots } from './local-slots.js';

const URL_ = 'http://api.test/items';

/** A transport whose calls stay open until the test lets them go, recording the order they began. */
function gatedTransport() {
  const started: string[] = [];
  const gates: (() => void)[] = [];
  const transport = mockTransport([], {
    fallback: async (ctx) => {
      started.push(ctx.request.url.pathname);
      await new Promise<void>((resolve) => gates.push(resolve));
      return { status: 200 };
    },
  });
  const openAll = () => {
    for (const open of gates.splice(0)) open();
  };
  return { transport, started, gates, openAll };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function configError(options: unknown): unknown {
  try {
    concurrencyLimit(options as never);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('concurrencyLimit()', () => {
  test('returns a named async function', () => {
    expect(concurrencyLimit({ max: 1 }).name).toBe('concurrencyLimit');
  });

  test.each([
    ['max', { max: 0 }],
    ['max', { max: 1.5 }],
    ['max', { max: '4' }],
    ['max', {}],
    ['maxQueue', { max: 1, maxQueue: -1 }],
    ['maxQueue', { max: 1, maxQueue: 0.5 }],
    ['leaseMs', { max: 1, leaseMs: 0 }],
    ['key', { max: 1, key: 'origin' }],
    ['redis', { max: 1, redis: 'http://127.0.0.1:6379', id: 'x' }],
    ['id', { max: 1, redis: 'redis://127.0.0.1:6379' }],
    ['onRedisError', { max: 1, redis: 'redis://127.0.0.1:6379', id: 'x', onRedisError: 'ignore' }],
    ['redisTimeoutMs', { max: 1, redisTimeoutMs: 0 }],
  ])('refuses an invalid %s with a ConfigError naming it', (option, options) => {
    const error = configError(options);
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });

  test('refuses an unknown option with the nearest known one', () => {
    const error = configError({ max: 1, leaseMS: 1000 });
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ option: 'leaseMS' });
    expect((error as Error).message).toContain('did you mean leaseMs?');
    expect((configError({ mx: 1 }) as Error).message).toContain('did you mean max?');
  });

  test.each([
    ['leaseMs', { max: 1, leaseMs: 9e9 }],
    ['redisTimeoutMs', { max: 1, redisTimeoutMs: 3e9 }],
  ])('refuses a %s longer than a timer can wait', (option, options) => {
    expect(configError(options)).toMatchObject({ option });
  });

  test('accepts ms options up to the longest timer', () => {
    expect(
      configError({ max: 1, leaseMs: MAX_TIMER_MS, redisTimeoutMs: MAX_TIMER_MS }),
    ).toBeUndefined();
  });

  test('reads only own properties: a polluted Object.prototype changes nothing', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    const { transport, gates, openAll } = gatedTransport();
    try {
      proto.max = 100;
      proto.maxQueue = 0;
      proto.redis = 'redis://127.0.0.1:1';
      proto.key = () => 'k';
      const client = createClient([concurrencyLimit({ max: 1 }), transport]);
      const calls = [client.get(`${URL_}/1`), client.get(`${URL_}/2`)];
      await tick();
      // One in flight and one waiting: not 100 slots, not a queue of 0, no Redis.
      expect(gates).toHaveLength(1);
      openAll();
      await tick();
      openAll();
      await Promise.all(calls);
    } finally {
      for (const name of ['max', 'maxQueue', 'redis', 'key']) delete proto[name];
    }
  });

  test('keeps at most max calls in flight and runs every call', async () => {
    const transport = mockTransport([{ delayMs: 5 }]);
    const client = createClient([concurrencyLimit({ max: 3 }), transport]);
    const responses = await Promise.all(Array.from({ length: 30 }, () => client.get(URL_)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(transport.maxInFlight).toBe(3);
  });

  test('starts waiting calls in FIFO order', async () => {
    const { transport, started, gates } = gatedTransport();
    const client = createClient([concurrencyLimit({ max: 1 }), transport]);
    const calls = Array.from({ length: 6 }, (_, i) => client.get(`http://api.test/${i}`));
    for (let i = 0; i < 6; i++) {
      while (gates.length === 0) await tick();
      gates.shift()!();
    }
    await Promise.all(calls);
    expect(started).toEqual(['/0', '/1', '/2', '/3', '/4', '/5']);
  });

  test('a queued call whose signal aborts rejects at once with the reason and never runs', async () => {
    const { transport, started, gates, openAll } = gatedTransport();
    const client = createClient([concurrencyLimit({ max: 1 }), transport]);
    const first = client.get('http://api.test/first');
    const controller = new AbortController();
    const queued = client.get('http://api.test/aborted', { signal: controller.signal });
    const third = client.get('http://api.test/third');
    while (gates.length === 0) await tick();
    const reason = new Error('caller gave up');
    let outcome: unknown = 'pending';
    queued.catch((e: unknown) => {
      outcome = e;
    });
    controller.abort(reason);
    // The slot it waits for stays taken until openAll() below: the abort alone must settle it, in
    // the same turn of the event loop (tick() runs after every pending microtask), whatever the
    // machine's speed.
    await tick();
    expect(outcome).toBe(reason);
    openAll();
    await first;
    while (gates.length === 0) await tick();
    openAll();
    await third;
    expect(started).toEqual(['/first', '/third']);
  });

  test('rejects with QueueFullError at once when maxQueue calls already wait', async () => {
    const { transport, gates, openAll } = gatedTransport();
    const client = createClient([concurrencyLimit({ max: 1, maxQueue: 2 }), transport]);
    const accepted = [client.get(URL_), client.get(URL_), client.get(URL_)];
    const error = await client.get(URL_).catch((e: unknown) => e);
    expect(isQueueFullError(error)).toBe(true);
    for (let i = 0; i < 3; i++) {
      while (gates.length === 0) await tick();
      openAll();
    }
    expect((await Promise.all(accepted)).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  test('maxQueue 0 refuses any call that would wait, not one that can start', async () => {
    const { transport, gates, openAll } = gatedTransport();
    const client = createClient([concurrencyLimit({ max: 2, maxQueue: 0 }), transport]);
    const running = [client.get(URL_), client.get(URL_)];
    expect(isQueueFullError(await client.get(URL_).catch((e: unknown) => e))).toBe(true);
    while (gates.length < 2) await tick();
    openAll();
    await Promise.all(running);
  });

  test('keys are isolated: 100 calls queued for host A do not delay one for host B', async () => {
    const { transport, gates, openAll } = gatedTransport();
    const limit = concurrencyLimit({ max: 1, key: (ctx) => ctx.request.url.host });
    const client = createClient([limit, transport]);
    const hostA = Array.from({ length: 100 }, () => client.get('http://a.test/'));
    while (gates.length === 0) await tick();
    const quick = mockTransport([{ status: 204 }]);
    const clientB = createClient([limit, quick]);
    let status: unknown = 'pending';
    void clientB.get('http://b.test/').then(
      (res) => {
        status = res.status;
      },
      (error: unknown) => {
        status = error;
      },
    );
    // A's slot stays taken until openAll() below: B must be answered without it, in the same turn
    // of the event loop (tick() runs after every pending microtask), whatever the machine's speed.
    await tick();
    expect(status).toBe(204);
    for (let i = 0; i < 100; i++) {
      while (gates.length === 0) await tick();
      openAll();
    }
    await Promise.all(hostA);
  });

  test('100 failing calls (errors, timeouts, aborts, a throwing middleware) leave no slot taken', async () => {
    const max = 4;
    let mode = 0;
    const failing = mockTransport([], {
      fallback: (_ctx, call) => {
        const kind = call % 3;
        if (kind === 0) return { error: new TransportError('reset', 'ECONNRESET') };
        if (kind === 1) return { delayMs: 1_000 };
        return { delayMs: 2 };
      },
    });
    const throwing: Middleware = async (ctx, next) => {
      if (mode++ % 4 === 3) throw new Error('inner middleware broke');
      return next(ctx);
    };
    const limit = concurrencyLimit({ max });
    const client = createClient([limit, throwing, failing]);
    const calls = Array.from({ length: 100 }, (_, i) => {
      if (i % 5 === 0) {
        const controller = new AbortController();
        setTimeout(() => controller.abort(new Error('aborted')), 1 + (i % 7));
        return client.get(URL_, { signal: controller.signal });
      }
      return client.get(URL_, { timeoutMs: 5 + (i % 3) });
    });
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThan(50);
    expect(results.some((r) => r.status === 'rejected' && r.reason instanceof TimeoutError)).toBe(
      true,
    );

    // If any slot were still taken, these max calls could not all be in flight together.
    let arrived = 0;
    let openBarrier!: () => void;
    const barrier = new Promise<void>((resolve) => {
      openBarrier = resolve;
    });
    const together = mockTransport([], {
      fallback: async () => {
        if (++arrived === max) openBarrier();
        await barrier;
        return { status: 200 };
      },
    });
    const after = createClient([limit, together]);
    const all = Promise.all(Array.from({ length: max }, () => after.get(URL_)));
    await expect(all).resolves.toHaveLength(max);
  });

  describe('with readBody: false', () => {
    function streamingClient(body: () => Readable) {
      const transport = mockTransport([], { fallback: () => ({ status: 200, body: body() }) });
      return {
        transport,
        client: createClient([concurrencyLimit({ max: 1 }), transport], { readBody: false }),
      };
    }

    test('holds the slot until the body has been read to the end', async () => {
      const stream = new PassThrough();
      const { client, transport } = streamingClient(() =>
        transport.requests.length === 1 ? stream : Readable.from([Buffer.from('b')]),
      );
      const first = await client.get(URL_);
      let secondDone = false;
      const second = client.get(URL_).then((r) => {
        secondDone = true;
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(secondDone).toBe(false);
      expect(transport.requests).toHaveLength(1);
      stream.end('body');
      expect(await first.text()).toBe('body');
      await second;
      expect(transport.requests).toHaveLength(2);
      await (await second).discard();
    });

    test('gives the slot back when the body is discarded or fails', async () => {
      const { client } = streamingClient(() => new PassThrough());
      const first = await client.get(URL_);
      const second = client.get(URL_);
      await first.discard();
      const response = await second;
      const third = client.get(URL_);
      (response.body as PassThrough).destroy(new Error('connection reset'));
      await (await third).discard();
    });

    test('gives the slot back at once for a body already read', async () => {
      const transport = mockTransport([
        (ctx) =>
          createResponse({
            status: 200,
            headers: new Headers(),
            url: ctx.request.url.href,
            method: 'GET',
            body: Buffer.from('done'),
          }),
      ]);
      const client = createClient([concurrencyLimit({ max: 1 }), transport], { readBody: false });
      await client.get(URL_);
      await client.get(URL_);
      expect(transport.requests).toHaveLength(2);
    });
  });
});

describe('createLocalSlots()', () => {
  test('drops a key once its last call has given its slot back', async () => {
    const pool = createLocalSlots(2, Number.POSITIVE_INFINITY);
    const signal = new AbortController().signal;
    const releases = await Promise.all([pool.acquire('a', signal), pool.acquire('b', signal)]);
    expect(pool.keys).toBe(2);
    for (const release of releases) release();
    expect(pool.keys).toBe(0);
    expect(pool.active).toBe(0);
  });

  test('drops a key whose only waiter aborted', async () => {
    const pool = createLocalSlots(1, Number.POSITIVE_INFINITY);
    const release = await pool.acquire('a', new AbortController().signal);
    const controller = new AbortController();
    const waiting = pool.acquire('a', controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    release();
    expect(pool.keys).toBe(0);
    expect(pool.waiting).toBe(0);
  });
});
