import { getEventListeners } from 'node:events';
import { Readable } from 'node:stream';
import {
  createClient,
  createContext,
  isConfigError,
  type Middleware,
  TimeoutError,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { timeout } from './timeout.js';

const URL_ = 'http://api.test/slow';

describe('timeout()', () => {
  test('returns a named async function', () => {
    expect(timeout({ ms: 10 }).name).toBe('timeout');
  });

  test.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100', undefined])(
    'refuses ms %p with a ConfigError naming the option',
    (ms) => {
      let error: unknown;
      try {
        timeout({ ms: ms as number });
      } catch (e) {
        error = e;
      }
      expect(isConfigError(error)).toBe(true);
      expect(error).toMatchObject({ option: 'ms' });
    },
  );

  test('accepts a bare number of ms', async () => {
    const client = createClient([timeout(20), mockTransport([{ delayMs: 1_000 }])]);
    await expect(client.get(URL_)).rejects.toBeInstanceOf(TimeoutError);
  });

  test('passes a response that arrives in time', async () => {
    const client = createClient([
      timeout({ ms: 500 }),
      mockTransport([{ delayMs: 5, body: 'fast' }]),
    ]);
    expect(await (await client.get(URL_)).text()).toBe('fast');
  });

  test('aborts the inner call through its signal and rejects with a TimeoutError naming the deadline', async () => {
    // Fake timers: the 5 s answer comes only if the test moves the clock that far, which it never
    // does, so the call must settle at the 25 ms deadline however slow the machine is.
    jest.useFakeTimers();
    let failure!: TimeoutError;
    const transport = mockTransport([{ delayMs: 5_000 }]);
    try {
      const client = createClient([timeout({ ms: 25 }), transport]);
      const call = client.get(URL_).catch((e: TimeoutError) => {
        failure = e;
      });
      await jest.advanceTimersByTimeAsync(24);
      expect(failure).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await call;
    } finally {
      jest.useRealTimers();
    }
    expect(failure).toBeInstanceOf(TimeoutError);
    expect(failure.timeoutMs).toBe(25);
    expect(failure.phase).toBe('middleware');
    expect(failure.message).toContain('25 ms');
    expect(failure.message).toContain('GET http://api.test/slow');
    const inner = transport.requests[0]!.ctx.signal;
    expect(inner.aborted).toBe(true);
    expect(inner.reason).toBe(failure);
  });

  test('rejects at the deadline even when the layer inside ignores the signal', async () => {
    const deaf: Middleware = () => new Promise(() => {});
    jest.useFakeTimers();
    try {
      const client = createClient([timeout({ ms: 20 }), deaf, mockTransport()]);
      let failure: unknown;
      const call = client.get(URL_).catch((e: unknown) => {
        failure = e;
      });
      // The layer inside never settles, so only the deadline can end the call: on the fake clock
      // it has not by 19 ms and has at 20 ms.
      await jest.advanceTimersByTimeAsync(19);
      expect(failure).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await call;
      expect(failure).toBeInstanceOf(TimeoutError);
      expect(failure).toMatchObject({ timeoutMs: 20 });
    } finally {
      jest.useRealTimers();
    }
  });

  test("rejects with the caller's reason when the caller aborts first", async () => {
    const client = createClient([timeout({ ms: 1_000 }), mockTransport([{ delayMs: 5_000 }])]);
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    setTimeout(() => controller.abort(reason), 10);
    await expect(client.get(URL_, { signal: controller.signal })).rejects.toBe(reason);
  });

  test('rejects at once when the signal is already aborted', async () => {
    const transport = mockTransport();
    const mw = timeout({ ms: 1_000 });
    const controller = new AbortController();
    controller.abort(new Error('before'));
    const ctx = createContext({
      request: { method: 'GET', url: new URL(URL_), headers: new Headers(), body: undefined },
      signal: controller.signal,
    });
    await expect(mw(ctx, () => transport(ctx))).rejects.toThrow('before');
    expect(transport.requests).toHaveLength(0);
  });

  test('leaves no deadline behind when the call settles: nothing fires, no timer is re-armed', async () => {
    jest.useFakeTimers();
    try {
      const seen: unknown[] = [];
      const spy: Middleware = (ctx, next) => {
        ctx.scope.onAbort((reason) => seen.push(reason));
        return next();
      };
      const client = createClient([timeout({ ms: 60_000 }), spy, mockTransport([{ status: 200 }])]);
      // Deadlines of one duration share one timer, however many calls are in flight.
      await Promise.all(Array.from({ length: 20 }, () => client.get(URL_)));
      expect(jest.getTimerCount()).toBeLessThanOrEqual(1);
      const failing = createClient([
        timeout({ ms: 60_000 }),
        spy,
        mockTransport([{ error: new Error('x') }]),
      ]);
      await expect(failing.get(URL_)).rejects.toThrow('x');
      jest.advanceTimersByTime(60_000);
      expect(jest.getTimerCount()).toBe(0);
      expect(seen).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });

  test('passes errors from inside through unchanged', async () => {
    const error = new Error('inner');
    const client = createClient([timeout({ ms: 1_000 }), mockTransport([{ error }])]);
    await expect(client.get(URL_)).rejects.toBe(error);
  });

  test('nests: the shorter deadline wins and names its own ms', async () => {
    const client = createClient([
      timeout({ ms: 1_000 }),
      timeout({ ms: 20 }),
      mockTransport([{ delayMs: 5_000 }]),
    ]);
    await expect(client.get(URL_)).rejects.toMatchObject({ timeoutMs: 20 });
    const outer = createClient([
      timeout({ ms: 20 }),
      timeout({ ms: 1_000 }),
      mockTransport([{ delayMs: 5_000 }]),
    ]);
    await expect(outer.get(URL_)).rejects.toMatchObject({ timeoutMs: 20 });
  });

  test("keeps the caller's abort linked to a streamed body after it returns", async () => {
    const body = new Readable({ read() {} });
    const destroyed = new Promise((resolve) => body.once('error', resolve));
    const transport = mockTransport([
      (ctx) => {
        ctx.signal.addEventListener('abort', () => body.destroy(ctx.signal.reason));
        return { status: 200, body };
      },
    ]);
    const client = createClient([timeout({ ms: 1_000 }), transport]);
    const controller = new AbortController();
    const res = await client.get(URL_, { readBody: false, signal: controller.signal });
    expect(res.body).toBe(body);
    controller.abort(new Error('stop streaming'));
    expect(body.destroyed).toBe(true);
    expect(await destroyed).toEqual(new Error('stop streaming'));
  });
  test('leaves no listener on the signal it handed down once the call settles', async () => {
    // A transport may keep that signal alive (undici's fetch does after a body cut mid-read); a
    // listener left on it would keep the whole call alive with it (issue 12 #1).
    const transport = mockTransport([
      { status: 200, body: 'ok' },
      { error: new Error('reset mid-body') },
    ]);
    const client = createClient([timeout({ ms: 60_000 }), transport]);
    for (let i = 0; i < 8; i++) await client.get(URL_).catch(() => {});
    const left = transport.requests.map((r) => getEventListeners(r.ctx.signal, 'abort').length);
    expect(left).toEqual(Array(8).fill(0));
  });
});
