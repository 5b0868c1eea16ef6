import { Readable } from 'node:stream';
import {
  type Context,
  createClient,
  type HttpStatusError,
  isConfigError,
  isHttpStatusError,
  isTransportError,
  type Middleware,
  TimeoutError,
  TransportError,
} from '@extapi/core';
import { type MockStep, mockTransport } from '@extapi/core/testing';
import { expectStatus } from '../expect-status.js';
import { timeout } from '../timeout.js';
import { createRetryBudget, type RetryInfo, type RetryOptions, retry } from './index.js';

const URL_ = 'http://api.test/items';

/** A retry whose waits are recorded instead of slept, so tests run instantly and see every delay. */
function setup(script: MockStep[], options: RetryOptions = {}, inner: Middleware[] = []) {
  const delays: number[] = [];
  const transport = mockTransport(script);
  const client = createClient([
    retry({
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
      },
      ...options,
    }),
    ...inner,
    transport,
  ]);
  return { client, transport, delays };
}

const reset = () => new TransportError('socket hang up', 'ECONNRESET');

describe('retry()', () => {
  test('returns a named async function', () => {
    expect(retry().name).toBe('retry');
  });

  test('retries a 503 and returns the response that follows', async () => {
    const { client, transport } = setup([{ status: 503 }, { status: 200, body: 'ok' }]);
    const res = await client.get(URL_);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(transport.requests.map((r) => r.attempt)).toEqual([1, 2]);
  });

  test('makes maxAttempts tries in total and does not sleep after the last one', async () => {
    const { client, transport, delays } = setup([{ status: 500, body: 'last' }]);
    const res = await client.get(URL_);
    expect(transport.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
    // The last response is returned as it is, body intact.
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('last');
  });

  test('does not retry at all with maxAttempts 1', async () => {
    const { client, transport } = setup([{ status: 503 }], { maxAttempts: 1 });
    expect((await client.get(URL_)).status).toBe(503);
    expect(transport.requests).toHaveLength(1);
  });

  test.each([0, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, '3'])(
    'refuses maxAttempts %p with a ConfigError naming option and value',
    (value) => {
      let error: unknown;
      try {
        retry({ maxAttempts: value as number });
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error)).toBe(true);
      expect((error as Error).message).toContain('maxAttempts');
      expect((error as Error).message).toContain(typeof value === 'string' ? '"3"' : String(value));
    },
  );

  test.each<[string, RetryOptions]>([
    ['statusCodes[0]', { statusCodes: [99] }],
    ['statusCodes', { statusCodes: 500 as never }],
    ['methods', { methods: 'some' as never }],
    ['backoff.baseMs', { backoff: { baseMs: -1 } }],
    ['backoff.maxMs', { backoff: { baseMs: 500, maxMs: 100 } }],
    ['maxRetryAfterMs', { maxRetryAfterMs: Number.POSITIVE_INFINITY }],
    ['retryOn', { retryOn: [42 as never] }],
    ['budget', { budget: 'yes' as never }],
    ['budget.ratio', { budget: { ratio: -0.1 } }],
    ['idempotencyKey', { idempotencyKey: 'yes' as never }],
    ['onRetry', { onRetry: 'log' as never }],
    ['logger', { logger: console.warn as never }],
    ['sleep', { sleep: 5 as never }],
  ])('refuses a bad %s at creation', (option, options) => {
    expect(() => retry(options)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', option }));
  });

  test('treats an explicit undefined as the default', async () => {
    const { client, transport } = setup([{ status: 503 }], {
      maxAttempts: undefined,
      statusCodes: undefined,
      methods: undefined,
    });
    await client.get(URL_);
    expect(transport.requests).toHaveLength(3);
  });

  test.each([408, 429, 500, 502, 503, 504])('retries status %i by default', async (status) => {
    const { client, transport } = setup([{ status }, { status: 200 }]);
    expect((await client.get(URL_)).status).toBe(200);
    expect(transport.requests).toHaveLength(2);
  });

  test.each([400, 401, 404, 409, 501])('does not retry status %i by default', async (status) => {
    const { client, transport } = setup([{ status }, { status: 200 }]);
    expect((await client.get(URL_)).status).toBe(status);
    expect(transport.requests).toHaveLength(1);
  });

  test('retries the statuses given in statusCodes only', async () => {
    const { client, transport } = setup([{ status: 409 }, { status: 503 }, { status: 200 }], {
      statusCodes: [409],
    });
    expect((await client.get(URL_)).status).toBe(503);
    expect(transport.requests).toHaveLength(2);
  });

  test("gives up by rethrowing the last attempt's own error, with attempts and the earlier errors", async () => {
    const errors = [reset(), reset(), new TransportError('refused', 'ECONNREFUSED')];
    const { client, transport } = setup(errors.map((error) => ({ error })));
    const failure = (await client.get(URL_).catch((e: unknown) => e)) as TransportError;
    expect(transport.requests).toHaveLength(3);
    expect(failure).toBe(errors[2]);
    expect(isTransportError(failure)).toBe(true);
    expect(failure.code).toBe('ECONNREFUSED');
    expect(failure.attempts).toBe(3);
    expect(failure.previousErrors).toEqual([errors[0], errors[1]]);
    // Not enumerable: a logged error does not carry every earlier attempt.
    expect(Object.keys(failure)).not.toContain('previousErrors');
    expect(failure.toJSON()).toMatchObject({ attempts: 3 });
  });

  test('names method and URL once in the message of the error it rethrows', async () => {
    const { client } = setup([{ status: 502 }], {}, [expectStatus()]);
    const failure = (await client.get(URL_).catch((e: unknown) => e)) as Error;
    expect(failure.message.split('GET http://api.test/items')).toHaveLength(2);
  });

  test('lists a retried response as an HttpStatusError among the previous errors', async () => {
    const { client } = setup([{ status: 503 }, { error: reset() }, { error: reset() }]);
    const failure = (await client.get(URL_).catch((e: unknown) => e)) as TransportError;
    expect(isTransportError(failure)).toBe(true);
    expect(failure.attempts).toBe(3);
    expect(failure.previousErrors).toHaveLength(2);
    expect(isHttpStatusError(failure.previousErrors[0])).toBe(true);
    expect((failure.previousErrors[0] as HttpStatusError).status).toBe(503);
  });

  test('records the attempts on an error that ends the retries because it is not retryable', async () => {
    const first = reset();
    const { client } = setup([{ error: first }, { status: 404 }], {}, [expectStatus([200])]);
    const failure = (await client.get(URL_).catch((e: unknown) => e)) as HttpStatusError;
    expect(failure.status).toBe(404);
    expect(failure.attempts).toBe(2);
    expect(failure.previousErrors).toEqual([first]);
  });

  test("records the attempts on the TimeoutError of the call's deadline when it ends a wait", async () => {
    const transport = mockTransport([{ status: 503 }]);
    const client = createClient([
      timeout({ ms: 50 }),
      retry({
        sleep: (_ms, signal) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      }),
      transport,
    ]);
    const failure = (await client.get(URL_).catch((e: unknown) => e)) as TimeoutError;
    expect(failure).toBeInstanceOf(TimeoutError);
    expect(failure.attempts).toBe(1);
    expect(failure.previousErrors).toHaveLength(1);
    expect((failure.previousErrors[0] as HttpStatusError).status).toBe(503);
  });

  test("leaves a caller's own abort reason untouched", async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const { client } = setup([{ status: 503 }], {
      sleep: async () => controller.abort(reason),
    });
    const failure = await client.get(URL_, { signal: controller.signal }).catch((e: unknown) => e);
    expect(failure).toBe(reason);
    expect(Object.keys(reason)).toEqual([]);
  });

  test('leaves an error after a single attempt as it is (attempts 1, no previous errors)', async () => {
    const { client } = setup([{ error: reset() }], { maxAttempts: 1 });
    const failure = (await client.get(URL_).catch((e: unknown) => e)) as TransportError;
    expect(failure.attempts).toBe(1);
    expect(failure.previousErrors).toEqual([]);
  });

  test('throws an error that is not retryable as it is, after one attempt', async () => {
    const boom = new Error('bug in a middleware');
    const { client, transport } = setup([{ error: boom }]);
    await expect(client.get(URL_)).rejects.toBe(boom);
    expect(transport.requests).toHaveLength(1);
  });

  test('retries a TimeoutError from a timeout() inside it, per attempt', async () => {
    const { client, transport } = setup([{ delayMs: 5_000 }, { status: 200, body: 'second' }], {}, [
      timeout({ ms: 20 }),
    ]);
    const res = await client.get(URL_);
    expect(await res.text()).toBe('second');
    expect(transport.requests).toHaveLength(2);
    // The first attempt was aborted through its signal, so the transport stopped waiting.
    expect(transport.requests[0]!.ctx.signal.aborted).toBe(true);
    expect(transport.requests[0]!.ctx.signal.reason).toBeInstanceOf(TimeoutError);
  });

  test('retries the HttpStatusError of an inner expectStatus when its status is retryable', async () => {
    const { client, transport } = setup([{ status: 503 }, { status: 200 }], {}, [
      expectStatus([200]),
    ]);
    expect((await client.get(URL_)).status).toBe(200);
    expect(transport.requests).toHaveLength(2);
  });

  test('throws the HttpStatusError of an inner expectStatus at once when its status is not retryable', async () => {
    const { client, transport } = setup([{ status: 404, body: 'nope' }], {}, [expectStatus([200])]);
    const failure = await client.get(URL_).catch((e: unknown) => e);
    expect(isHttpStatusError(failure)).toBe(true);
    expect(await (failure as HttpStatusError).response.text()).toBe('nope');
    expect(transport.requests).toHaveLength(1);
  });

  test('rethrows the HttpStatusError of an inner expectStatus after the last attempt', async () => {
    const { client, transport } = setup([{ status: 502, body: 'down' }], {}, [expectStatus([200])]);
    const failure = (await client.get(URL_).catch((e: unknown) => e)) as HttpStatusError;
    expect(isHttpStatusError(failure)).toBe(true);
    expect(failure.status).toBe(502);
    expect(failure.attempts).toBe(3);
    expect(failure.previousErrors.map((e) => (e as HttpStatusError).status)).toEqual([502, 502]);
    // The caller can still read the last answer's body.
    expect(await failure.response.text()).toBe('down');
    expect(transport.requests).toHaveLength(3);
  });

  describe('idempotency', () => {
    test.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])(
      'retries network errors for %s',
      async (method) => {
        const { client, transport } = setup([{ error: reset() }, { status: 200 }]);
        expect((await client.request(URL_, { method })).status).toBe(200);
        expect(transport.requests).toHaveLength(2);
      },
    );

    test.each(['POST', 'PATCH'])(
      'does not retry network errors, timeouts or a 500 for %s',
      async (method) => {
        for (const step of [{ error: reset() }, { status: 500 }, { delayMs: 1_000 }]) {
          const { client, transport } = setup([step, { status: 200 }], {}, [timeout({ ms: 10 })]);
          const outcome = await client
            .request(URL_, { method, body: 'x' })
            .catch((e: unknown) => e);
          expect(transport.requests).toHaveLength(1);
          if ('error' in step) expect(isTransportError(outcome)).toBe(true);
          else if ('status' in step) expect((outcome as { status: number }).status).toBe(500);
          else expect(outcome).toBeInstanceOf(TimeoutError);
        }
      },
    );

    test.each([429, 503])('retries a %i for any method, POST included', async (status) => {
      const { client, transport } = setup([{ status }, { status: 201 }]);
      expect((await client.post(URL_, { json: { a: 1 } })).status).toBe(201);
      expect(transport.requests).toHaveLength(2);
      expect(transport.requests[1]!.body).toBe('{"a":1}');
    });

    test('retries a POST that carries an Idempotency-Key like an idempotent request', async () => {
      const { client, transport } = setup([{ status: 500 }, { error: reset() }, { status: 201 }]);
      const res = await client.post(URL_, { body: 'x', headers: { 'Idempotency-Key': 'k-1' } });
      expect(res.status).toBe(201);
      expect(transport.requests).toHaveLength(3);
    });

    test("retries every method with methods: 'all'", async () => {
      const { client, transport } = setup([{ error: reset() }, { status: 500 }, { status: 200 }], {
        methods: 'all',
      });
      expect((await client.post(URL_, { body: 'x' })).status).toBe(200);
      expect(transport.requests).toHaveLength(3);
    });

    test('retries only the given methods', async () => {
      const { client, transport } = setup([{ status: 500 }, { status: 200 }], {
        methods: ['post'],
      });
      expect((await client.post(URL_, { body: 'x' })).status).toBe(200);
      expect((await client.get(URL_)).status).toBe(200);
      const { client: other, transport: otherTransport } = setup([{ status: 500 }], {
        methods: ['POST'],
      });
      expect((await other.get(URL_)).status).toBe(500);
      expect(transport.requests).toHaveLength(3);
      expect(otherTransport.requests).toHaveLength(1);
    });
  });

  describe('delays', () => {
    test('waits an exponential backoff with full jitter between attempts', async () => {
      const { client, delays } = setup([{ status: 503 }], { maxAttempts: 5 });
      await client.get(URL_);
      // random() = 0.5 of 200, 400, 800, 1600.
      expect(delays).toEqual([100, 200, 400, 800]);
    });

    test('caps the backoff at backoff.maxMs and spreads it with random()', async () => {
      const { client, delays } = setup([{ status: 503 }], {
        maxAttempts: 5,
        backoff: { baseMs: 1_000, maxMs: 2_500 },
        random: () => 0.999,
      });
      await client.get(URL_);
      expect(delays).toEqual([999, 1998, 2497, 2497]);
    });

    test('honours Retry-After given in seconds', async () => {
      const { client, delays } = setup([
        { status: 503, headers: { 'retry-after': '7' } },
        { status: 200 },
      ]);
      await client.get(URL_);
      expect(delays).toEqual([7_000]);
    });

    test('honours Retry-After given as an HTTP-date', async () => {
      const now = Date.parse('2026-01-01T00:00:00Z');
      const { client, delays } = setup(
        [
          { status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' } },
          { status: 200 },
        ],
        { now: () => now },
      );
      await client.get(URL_);
      expect(delays).toEqual([3_000]);
    });

    test('honours RateLimit-Reset and X-RateLimit-Reset on a 429 or 503', async () => {
      const now = 1_700_000_000_000;
      const { client, delays } = setup(
        [
          { status: 429, headers: { 'ratelimit-reset': '4' } },
          { status: 503, headers: { 'x-ratelimit-reset': '1700000002' } },
          { status: 200 },
        ],
        { now: () => now },
      );
      await client.get(URL_);
      expect(delays).toEqual([4_000, 2_000]);
    });

    test('ignores RateLimit-Reset on other statuses and backs off instead', async () => {
      const { client, delays } = setup([
        { status: 500, headers: { 'ratelimit-reset': '30' } },
        { status: 200 },
      ]);
      await client.get(URL_);
      expect(delays).toEqual([100]);
    });

    test('returns a response at once when its server delay exceeds maxRetryAfterMs', async () => {
      const { client, transport, delays } = setup([
        { status: 429, headers: { 'retry-after': '61' }, body: 'slow down' },
        { status: 200 },
      ]);
      const res = await client.get(URL_);
      expect(res.status).toBe(429);
      expect(await res.text()).toBe('slow down');
      expect(transport.requests).toHaveLength(1);
      expect(delays).toEqual([]);
    });

    test('waits out a server delay up to maxRetryAfterMs', async () => {
      const { client, delays } = setup(
        [{ status: 429, headers: { 'retry-after': '2' } }, { status: 200 }],
        {
          maxRetryAfterMs: 2_000,
        },
      );
      expect((await client.get(URL_)).status).toBe(200);
      expect(delays).toEqual([2_000]);
    });

    test('falls back to backoff when Retry-After is junk', async () => {
      const { client, delays } = setup([
        { status: 503, headers: { 'retry-after': 'soon' } },
        { status: 200 },
      ]);
      await client.get(URL_);
      expect(delays).toEqual([100]);
    });
  });

  describe('attempts', () => {
    test('runs each attempt on its own clone, so headers set inside do not leak between attempts', async () => {
      const appendOnce: Middleware = (ctx, next) => {
        ctx.request.headers.append('x-seen', `attempt-${ctx.attempt}`);
        return next(ctx);
      };
      const { client, transport } = setup([{ status: 503 }, { status: 503 }, { status: 200 }], {}, [
        appendOnce,
      ]);
      await client.get(URL_, { headers: { 'x-caller': 'a' } });
      expect(transport.requests.map((r) => r.headers['x-seen'])).toEqual([
        'attempt-1',
        'attempt-2',
        'attempt-3',
      ]);
      expect(transport.requests.every((r) => r.headers['x-caller'] === 'a')).toBe(true);
      const contexts = new Set(transport.requests.map((r) => r.ctx));
      expect(contexts.size).toBe(3);
    });

    test('shares meta and state between the attempts of a call', async () => {
      const counter: Middleware = (ctx, next) => {
        ctx.state.set('n', ((ctx.state.get('n') as number) ?? 0) + 1);
        return next(ctx);
      };
      const { client, transport } = setup([{ status: 503 }, { status: 200 }], {}, [counter]);
      await client.get(URL_);
      expect(transport.requests[1]!.ctx.state.get('n')).toBe(2);
    });

    test('discards the body of a retried response so its connection is released', async () => {
      const bodies: Readable[] = [];
      const streamed: MockStep = () => {
        const body = Readable.from([Buffer.from('partial '), Buffer.from('body')]);
        bodies.push(body);
        return { status: 503, body };
      };
      const { client } = setup([
        streamed,
        { status: 200, body: Readable.from([Buffer.from('done')]) },
      ]);
      const res = await client.get(URL_, { readBody: false });
      expect(res.status).toBe(200);
      expect(bodies[0]!.destroyed).toBe(true);
      expect(await res.text()).toBe('done');
    });

    test('sends a stream body once and does not retry it', async () => {
      const { client, transport } = setup([{ status: 503 }, { status: 200 }]);
      const res = await client.put(URL_, { body: Readable.from(['a', 'b']) });
      expect(res.status).toBe(503);
      expect(transport.requests).toHaveLength(1);
    });

    test('sends an async iterable body once and throws its network error as it is', async () => {
      async function* chunks() {
        yield new TextEncoder().encode('x');
      }
      const error = reset();
      const { client, transport } = setup([{ error }, { status: 200 }]);
      await expect(client.put(URL_, { body: chunks() })).rejects.toBe(error);
      expect(transport.requests).toHaveLength(1);
    });

    test('retries replayable bodies with the same bytes', async () => {
      const { client, transport } = setup([{ status: 503 }, { status: 200 }]);
      await client.put(URL_, { body: new Uint8Array([1, 2, 3]) });
      expect(transport.requests.map((r) => r.body)).toEqual([
        new Uint8Array([1, 2, 3]),
        new Uint8Array([1, 2, 3]),
      ]);
    });
  });

  describe('abort', () => {
    test('rejects at once with the signal reason when aborted during a 10 s Retry-After wait', async () => {
      const transport = mockTransport([
        { status: 503, headers: { 'retry-after': '10' } },
        { status: 200 },
      ]);
      // Fake timers: the 10 s wait ends only if the test moves the clock that far, which it never
      // does, so the call can settle only through the abort, however slow the machine is.
      jest.useFakeTimers();
      try {
        const client = createClient([retry(), transport]);
        const controller = new AbortController();
        const reason = new Error('caller gave up');
        let failure: unknown;
        const call = client.get(URL_, { signal: controller.signal }).catch((e: unknown) => {
          failure = e;
        });
        await jest.advanceTimersByTimeAsync(30);
        // Waiting: the first attempt is done and the second not due for 9.97 s.
        expect(failure).toBeUndefined();
        expect(transport.requests).toHaveLength(1);
        controller.abort(reason);
        await call;
        expect(failure).toBe(reason);
        // The wait's timer is gone, not left to fire at 10 s.
        expect(jest.getTimerCount()).toBe(0);
        await jest.advanceTimersByTimeAsync(10_000);
        expect(transport.requests).toHaveLength(1);
      } finally {
        jest.useRealTimers();
      }
    });

    test('rejects at once when aborted during an attempt, even if the layer inside ignores the signal', async () => {
      const deaf: Middleware = () => new Promise(() => {});
      jest.useFakeTimers();
      try {
        const client = createClient([retry(), deaf, mockTransport()]);
        const controller = new AbortController();
        const reason = new Error('stop');
        let failure: unknown;
        const call = client.get(URL_, { signal: controller.signal }).catch((e: unknown) => {
          failure = e;
        });
        await jest.advanceTimersByTimeAsync(20);
        expect(failure).toBeUndefined();
        // The layer inside never settles and the clock stands still from here: only the abort can
        // end the call.
        controller.abort(reason);
        await call;
        expect(failure).toBe(reason);
      } finally {
        jest.useRealTimers();
      }
    });

    test('with timeout() before it, ends at the deadline even if the layer inside ignores the abort', async () => {
      // retry() leaves the race to timeout(), which rejects its whole pass at the deadline.
      const deaf: Middleware = () => new Promise(() => {});
      const client = createClient([timeout({ ms: 30 }), retry(), deaf, mockTransport()]);
      const failure = await client.get(URL_).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TimeoutError);
      expect((failure as TimeoutError).timeoutMs).toBe(30);
    });

    test('does not retry an attempt that failed because the caller aborted', async () => {
      const transport = mockTransport([{ delayMs: 5_000 }]);
      const client = createClient([retry(), transport]);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('bye')), 20);
      await expect(client.get(URL_, { signal: controller.signal })).rejects.toThrow('bye');
      expect(transport.requests).toHaveLength(1);
    });

    test('gives a total deadline when timeout() sits before it', async () => {
      const transport = mockTransport([{ status: 503, headers: { 'retry-after': '5' } }]);
      const client = createClient([timeout({ ms: 40 }), retry(), transport]);
      const failure = await client.get(URL_).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TimeoutError);
      expect((failure as TimeoutError).timeoutMs).toBe(40);
      expect(transport.requests).toHaveLength(1);
    });
  });

  describe('retryOn', () => {
    test('retries after the delay a policy returns', async () => {
      const { client, transport, delays } = setup([{ status: 400 }, { status: 200 }], {
        retryOn: (outcome) => (outcome.response?.status === 400 ? 1_234 : undefined),
      });
      expect((await client.get(URL_)).status).toBe(200);
      expect(transport.requests).toHaveLength(2);
      expect(delays).toEqual([1_234]);
    });

    test('retries with the default delay when a policy returns true', async () => {
      const { client, delays } = setup(
        [{ status: 409, headers: { 'retry-after': '1' } }, { status: 200 }],
        {
          retryOn: [(o) => (o.response?.status === 409 ? true : undefined)],
        },
      );
      await client.get(URL_);
      expect(delays).toEqual([1_000]);
    });

    test('stops a default retry when a policy returns false', async () => {
      const { client, transport } = setup(
        [{ status: 503, headers: { 'x-final': '1' } }, { status: 200 }],
        {
          retryOn: (o) => (o.response?.headers.get('x-final') === '1' ? false : undefined),
        },
      );
      expect((await client.get(URL_)).status).toBe(503);
      expect(transport.requests).toHaveLength(1);
    });

    test('asks policies in order and falls back to the defaults when all defer', async () => {
      const seen: string[] = [];
      const { client, transport } = setup([{ error: reset() }, { status: 200 }], {
        retryOn: [
          (o, ctx) => {
            seen.push(`first:${o.attempt}:${ctx.attempt}:${isTransportError(o.error)}`);
            return undefined;
          },
          () => {
            seen.push('second');
            return undefined;
          },
        ],
      });
      expect((await client.get(URL_)).status).toBe(200);
      expect(transport.requests).toHaveLength(2);
      expect(seen).toEqual(['first:1:1:true', 'second', 'first:2:2:false', 'second']);
    });

    test('cannot make an unreplayable body be sent twice', async () => {
      const { client, transport } = setup([{ status: 400 }, { status: 200 }], {
        retryOn: () => true,
      });
      await client.post(URL_, { body: Readable.from(['x']) });
      expect(transport.requests).toHaveLength(1);
    });
  });

  describe('budget', () => {
    const failing = (n: number) => Array.from({ length: n }, () => ({ status: 503 }));

    test('stops retrying a 100%-failing upstream once the budget is spent', async () => {
      // A frozen clock: no tokens come from time, only the 10 it starts with and 20% of calls.
      const { client, transport } = setup(failing(1), { budget: { now: () => 0 } });
      for (let i = 0; i < 50; i++) await client.get(URL_);
      // 50 calls, 10 initial tokens, 49 × 0.2 = 9.8 earned (the first deposit finds the bucket
      // full): 19 retries instead of 100.
      expect(transport.requests.length).toBe(69);
    });

    test('retries every time without a budget', async () => {
      const { client, transport } = setup(failing(1), { budget: false });
      for (let i = 0; i < 50; i++) await client.get(URL_);
      expect(transport.requests.length).toBe(150);
    });

    test('earns tokens back over time', async () => {
      let now = 0;
      const { client, transport } = setup(failing(1), { budget: { now: () => now } });
      for (let i = 0; i < 20; i++) await client.get(URL_);
      const spent = transport.requests.length;
      now += 1_000;
      for (let i = 0; i < 5; i++) await client.get(URL_);
      // One second earns 10 tokens: the next 5 calls get both their retries.
      expect(transport.requests.length - spent).toBe(15);
    });

    test('gives each retry() instance its own budget unless one is shared', async () => {
      const first = setup(failing(1), { budget: { now: () => 0, maxTokens: 2 } });
      const second = setup(failing(1), { budget: { now: () => 0, maxTokens: 2 } });
      await first.client.get(URL_);
      await second.client.get(URL_);
      expect(first.transport.requests).toHaveLength(3);
      expect(second.transport.requests).toHaveLength(3);

      const budget = createRetryBudget({ now: () => 0, maxTokens: 2, ratio: 0 });
      const a = setup(failing(1), { budget });
      const b = setup(failing(1), { budget });
      await a.client.get(URL_);
      await b.client.get(URL_);
      expect(a.transport.requests).toHaveLength(3);
      expect(b.transport.requests).toHaveLength(1);
    });

    test("ends in the last attempt's error when the budget stops the retries of errors", async () => {
      const { client, transport } = setup([{ error: reset() }], {
        budget: { now: () => 0, maxTokens: 1, ratio: 0 },
      });
      const failure = (await client.get(URL_).catch((e: unknown) => e)) as TransportError;
      expect(isTransportError(failure)).toBe(true);
      expect(failure.attempts).toBe(2);
      expect(transport.requests).toHaveLength(2);
    });
  });

  describe('idempotencyKey', () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

    test.each(['POST', 'PATCH'])(
      'gives a %s a random Idempotency-Key, the same on every attempt',
      async (method) => {
        const { client, transport } = setup(
          [{ status: 500 }, { error: reset() }, { status: 201 }],
          {
            idempotencyKey: true,
          },
        );
        expect((await client.request(URL_, { method, body: 'x' })).status).toBe(201);
        const keys = transport.requests.map((r) => r.headers['idempotency-key']);
        expect(keys).toHaveLength(3);
        expect(keys[0]).toMatch(UUID);
        expect(new Set(keys).size).toBe(1);
      },
    );

    test('gives each call its own key', async () => {
      const { client, transport } = setup([{ status: 200 }], { idempotencyKey: true });
      await client.post(URL_, { body: 'x' });
      await client.post(URL_, { body: 'x' });
      const [a, b] = transport.requests.map((r) => r.headers['idempotency-key']);
      expect(a).toMatch(UUID);
      expect(a).not.toBe(b);
    });

    test('keeps a key the caller set', async () => {
      const { client, transport } = setup([{ status: 200 }], { idempotencyKey: true });
      await client.post(URL_, { body: 'x', headers: { 'idempotency-key': 'mine' } });
      expect(transport.requests[0]!.headers['idempotency-key']).toBe('mine');
    });

    test('leaves idempotent methods and the default configuration alone', async () => {
      const { client, transport } = setup([{ status: 200 }], { idempotencyKey: true });
      await client.put(URL_, { body: 'x' });
      const { client: plain, transport: plainTransport } = setup([{ status: 200 }]);
      await plain.post(URL_, { body: 'x' });
      expect(transport.requests[0]!.headers['idempotency-key']).toBeUndefined();
      expect(plainTransport.requests[0]!.headers['idempotency-key']).toBeUndefined();
    });
  });

  describe('onRetry and logger', () => {
    test('calls onRetry before each wait with the attempt, delay and reason', async () => {
      const infos: RetryInfo[] = [];
      const error = reset();
      const { client } = setup(
        [{ status: 503, headers: { 'retry-after': '1' } }, { error }, { status: 200 }],
        {
          onRetry: (info) => infos.push(info),
        },
      );
      await client.get(URL_);
      expect(
        infos.map(({ attempt, maxAttempts, delayMs, reason }) => ({
          attempt,
          maxAttempts,
          delayMs,
          reason,
        })),
      ).toEqual([
        { attempt: 1, maxAttempts: 3, delayMs: 1_000, reason: 'status 503' },
        { attempt: 2, maxAttempts: 3, delayMs: 200, reason: 'ECONNRESET' },
      ]);
      expect(infos[0]!.response?.status).toBe(503);
      expect(infos[1]!.error).toBe(error);
      expect(infos[1]!.ctx.attempt).toBe(2);
    });

    test('writes a warning per retry with the URL redacted', async () => {
      const lines: [Record<string, unknown>, string][] = [];
      const logger = {
        warn: (obj: object, msg?: string) => lines.push([obj as Record<string, unknown>, msg!]),
      };
      const { client } = setup([{ status: 502 }], { logger });
      await client.get('http://user:pw@api.test/items?token=s3cret&page=2');
      expect(lines.map(([, msg]) => msg)).toEqual([
        'retry #1/2 of GET http://api.test/items?token=[REDACTED]&page=2',
        'retry #2/2 of GET http://api.test/items?token=[REDACTED]&page=2',
      ]);
      expect(lines[0]![0]).toMatchObject({
        attempt: 1,
        maxAttempts: 3,
        reason: 'status 502',
        method: 'GET',
      });
      expect(JSON.stringify(lines)).not.toContain('s3cret');
      expect(JSON.stringify(lines)).not.toContain('pw');
    });
  });

  test('sees the context of each attempt in the layers after it', async () => {
    const attempts: number[] = [];
    const spy: Middleware = (ctx: Context, next) => {
      attempts.push(ctx.attempt);
      return next(ctx);
    };
    const { client } = setup([{ status: 503 }, { status: 503 }, { status: 200 }], {}, [spy]);
    await client.get(URL_);
    expect(attempts).toEqual([1, 2, 3]);
  });
});
