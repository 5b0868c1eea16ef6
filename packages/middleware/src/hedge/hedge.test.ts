import { Readable } from 'node:stream';
import {
  type Context,
  createClient,
  isConfigError,
  lintStack,
  middlewareInfo,
  type Middleware,
  TransportError,
} from '@extapi/core';
import { type MockAnswer, type MockStep, mockTransport } from '@extapi/core/testing';
import { logging } from '../logging/index.js';
import { createRetryBudget, retry } from '../retry/index.js';
import {
  type HedgeInfo,
  type HedgeOptions,
  hedge,
  hedgeNumber,
  resolveHedgeOptions,
} from './index.js';

const URL_ = 'http://api.test/items';

/** A transport step the test answers by hand; it rejects with the scope's reason on abort. */
function held() {
  let open: ((answer: MockAnswer) => void) | undefined;
  const aborted: unknown[] = [];
  const step: MockStep = (ctx) =>
    new Promise<MockAnswer>((resolve, reject) => {
      open = resolve;
      ctx.scope.onAbort((reason) => {
        aborted.push(reason);
        reject(reason);
      });
    });
  return {
    step,
    aborted,
    answer: (answer: MockAnswer) => open!(answer),
  };
}

/** A hedge with a fixed 100 ms delay, no budget unless given, and a hand-driven latency clock. */
function setup(script: MockStep[], options: HedgeOptions = {}, inner: Middleware[] = []) {
  const hedges: HedgeInfo[] = [];
  const transport = mockTransport(script);
  const client = createClient([
    hedge({ delayMs: 100, budget: false, onHedge: (info) => hedges.push(info), ...options }),
    ...inner,
    transport,
  ]);
  return { client, transport, hedges };
}

/** Lets the promise callbacks queued so far run. */
const flush = () => jest.advanceTimersByTimeAsync(0);

describe('hedge()', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  it('is named hedge and re-sends, for describe() and the stack check', () => {
    expect(hedge().name).toBe('hedge');
    expect(middlewareInfo(hedge())?.placement).toMatchObject({ resends: true, unique: true });
  });

  it('sends no hedge and leaves no timer when the first attempt answers within the delay', async () => {
    const { client, transport, hedges } = setup([{ status: 200, body: 'first' }]);
    const response = await client.get(URL_);
    expect(await response.text()).toBe('first');
    expect(transport.requests).toHaveLength(1);
    expect(hedges).toHaveLength(0);
  });

  it('sends a hedge after the delay; the hedge wins, the first attempt is aborted', async () => {
    const slow = held();
    const { client, transport, hedges } = setup([slow.step, { status: 200, body: 'hedge' }]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(99);
    expect(transport.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    const response = await call;
    expect(await response.text()).toBe('hedge');
    expect(transport.requests).toHaveLength(2);
    expect(slow.aborted).toHaveLength(1);
    expect(hedges.map((h) => h.hedge)).toEqual([1]);
  });

  it('lets the first attempt win when it answers after the hedge was sent, and aborts the hedge', async () => {
    const slow = held();
    const hedgeStep = held();
    const { client, transport } = setup([slow.step, hedgeStep.step]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    expect(transport.requests).toHaveLength(2);
    slow.answer({ status: 200, body: 'first' });
    expect(await (await call).text()).toBe('first');
    expect(hedgeStep.aborted).toHaveLength(1);
    expect(slow.aborted).toHaveLength(0);
  });

  it('discards a loser that answers anyway after it was aborted', async () => {
    const discarded: number[] = [];
    // A layer that ignores the abort: the loser's response still comes, and must be released.
    let late: ((answer: MockAnswer) => void) | undefined;
    const deaf: MockStep = () => new Promise((resolve) => (late = resolve));
    const watch: Middleware = async (ctx, next) => {
      const response = await next(ctx);
      const discard = response.discard.bind(response);
      response.discard = () => {
        discarded.push(hedgeNumber(ctx));
        return discard();
      };
      return response;
    };
    const { client } = setup([deaf, { status: 200, body: 'hedge' }], {}, [watch]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    expect(await (await call).text()).toBe('hedge');
    late!({ status: 200, body: 'late' });
    await flush();
    expect(discarded).toEqual([0]);
  });

  it('sends up to maxHedges hedges, delayMs apart', async () => {
    const steps = [held(), held(), held(), held()];
    const { client, transport } = setup(
      steps.map((s) => s.step),
      { maxHedges: 2 },
    );
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    expect(transport.requests).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(100);
    expect(transport.requests).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(transport.requests).toHaveLength(3);
    steps[2]!.answer({ status: 200, body: 'third' });
    expect(await (await call).text()).toBe('third');
    expect(steps[0]!.aborted).toHaveLength(1);
    expect(steps[1]!.aborted).toHaveLength(1);
  });

  it('marks each hedge with hedgeNumber and keeps ctx.attempt', async () => {
    const seen: Array<[number, number]> = [];
    const mark: Middleware = (ctx, next) => {
      seen.push([ctx.attempt, hedgeNumber(ctx)]);
      return next(ctx);
    };
    const slow = held();
    const { client, hedges } = setup([slow.step, { status: 200 }], { now: Date.now }, [mark]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    await call;
    expect(seen).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(hedgeNumber(hedges[0]!.ctx)).toBe(1);
    expect(hedges[0]!.delayMs).toBe(100);
  });

  it('shows in logging() below it as two requests, the loser aborted', async () => {
    const events: string[] = [];
    const log = (fields: object) => events.push((fields as { event: string }).event);
    const logger = { debug: log, info: log, warn: log, error: log };
    const slow = held();
    const { client } = setup([slow.step, { status: 200 }], {}, [logging({ logger })]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    await call;
    await flush();
    expect(events).toEqual(['request', 'request', 'response', 'abort']);
  });

  it('passes a POST without an Idempotency-Key straight through: same ctx, no timer', async () => {
    const contexts: Context[] = [];
    let outer: Context | undefined;
    const before: Middleware = (ctx, next) => {
      outer = ctx;
      return next(ctx);
    };
    const after: Middleware = (ctx, next) => {
      contexts.push(ctx);
      expect(jest.getTimerCount()).toBe(0);
      return next(ctx);
    };
    const transport = mockTransport([{ status: 200, delayMs: 500 }]);
    const client = createClient([before, hedge({ delayMs: 100 }), after, transport]);
    const call = client.post(URL_, { json: { a: 1 } });
    await jest.advanceTimersByTimeAsync(500);
    await call;
    expect(transport.requests).toHaveLength(1);
    expect(contexts[0]).toBe(outer);
  });

  it('hedges a POST that carries an Idempotency-Key, with the same key and body', async () => {
    const slow = held();
    const { client, transport } = setup([slow.step, { status: 201 }]);
    const call = client.post(URL_, { json: { a: 1 }, headers: { 'idempotency-key': 'k1' } });
    await jest.advanceTimersByTimeAsync(100);
    expect((await call).status).toBe(201);
    expect(transport.requests.map((r) => [r.method, r.headers['idempotency-key']])).toEqual([
      ['POST', 'k1'],
      ['POST', 'k1'],
    ]);
    expect(transport.requests[1]!.body).toEqual(transport.requests[0]!.body);
  });

  it('never hedges a body that cannot be replayed', async () => {
    const { client, transport } = setup([{ status: 200, delayMs: 500 }]);
    const call = client.put(URL_, { body: Readable.from(['x']) });
    await jest.advanceTimersByTimeAsync(500);
    await call;
    expect(transport.requests).toHaveLength(1);
  });

  it('ends in a fast failure at once, without a hedge (retry() above decides)', async () => {
    const error = new TransportError('socket hang up', 'ECONNRESET');
    const { client, transport } = setup([{ error }, { status: 200 }]);
    await expect(client.get(URL_)).rejects.toBe(error);
    expect(transport.requests).toHaveLength(1);
  });

  it('returns a fast 503 at once, without a hedge', async () => {
    const { client, transport } = setup([{ status: 503 }, { status: 200 }]);
    expect((await client.get(URL_)).status).toBe(503);
    expect(transport.requests).toHaveLength(1);
  });

  it('waits for the hedge when the first attempt fails after the hedge was sent', async () => {
    const slow = held();
    const hedgeStep = held();
    const { client } = setup([slow.step, hedgeStep.step]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    slow.answer({ error: new TransportError('reset', 'ECONNRESET') });
    await flush();
    hedgeStep.answer({ status: 200, body: 'hedge' });
    expect(await (await call).text()).toBe('hedge');
  });

  it('lets a 503 lose to an attempt in flight, and discards its body', async () => {
    const slow = held();
    const discarded: number[] = [];
    const watch: Middleware = async (ctx, next) => {
      const response = await next(ctx);
      const discard = response.discard.bind(response);
      response.discard = () => {
        discarded.push(response.status);
        return discard();
      };
      return response;
    };
    const { client } = setup([slow.step, { status: 503, body: 'busy' }], {}, [watch]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    await flush();
    slow.answer({ status: 200, body: 'first' });
    expect(await (await call).text()).toBe('first');
    expect(discarded).toEqual([503]);
  });

  it('ends in the first failure when every attempt fails', async () => {
    const slow = held();
    const hedgeStep = held();
    const first = new TransportError('first', 'ECONNRESET');
    const { client } = setup([slow.step, hedgeStep.step]);
    const call = client.get(URL_);
    const outcome = call.catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100);
    slow.answer({ error: first });
    await flush();
    hedgeStep.answer({ error: new TransportError('second', 'ECONNRESET') });
    expect(await outcome).toBe(first);
  });

  it('ends in the first failing answer when every attempt fails with a status', async () => {
    const slow = held();
    const { client } = setup([slow.step, { status: 502, body: 'hedge' }]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    await flush();
    slow.answer({ status: 504, body: 'first' });
    const response = await call;
    expect(response.status).toBe(502);
    expect(await response.text()).toBe('hedge');
  });

  it("rejects with the caller's reason and aborts every attempt when the caller aborts", async () => {
    const steps = [held(), held()];
    const { client } = setup(steps.map((s) => s.step));
    const controller = new AbortController();
    const call = client.get(URL_, { signal: controller.signal });
    const outcome = call.catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    expect(steps[0]!.aborted).toEqual([reason]);
    expect(steps[1]!.aborted).toEqual([reason]);
  });

  it('keeps hedges within the budget, and waits for the attempt when it is spent', async () => {
    const budget = createRetryBudget({ ratio: 0.5, perSecond: 0, maxTokens: 1 });
    const script = Array.from({ length: 4 }, () => ({ status: 200, delayMs: 150 }));
    const { client, transport, hedges } = setup(script, { budget, maxHedges: 1 });
    // The bucket starts full (1 token): the first slow call hedges and spends it; the second
    // earns 0.5 and must wait; the third brings it to 1 again.
    for (const expected of [1, 1, 2]) {
      const call = client.get(URL_);
      await jest.advanceTimersByTimeAsync(150);
      await call;
      expect(hedges).toHaveLength(expected);
    }
    expect(transport.requests).toHaveLength(5);
  });

  it('follows a percentile of recent latencies once it has enough of them', async () => {
    let clock = 0;
    const latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    const script: MockStep[] = latencies.map((ms) => () => {
      clock += ms;
      return { status: 200 };
    });
    const slow = held();
    script.push(slow.step, { status: 200, body: 'hedge' });
    const { client, transport, hedges } = setup(script, {
      delayMs: 'p90',
      minSamples: 10,
      window: 10,
      fallbackDelayMs: 5_000,
      now: () => clock,
    });
    for (const _ of latencies) await client.get(URL_);
    expect(hedges).toHaveLength(0);
    // p90 of 10…100 by nearest rank is 90: the eleventh call hedges at 90 ms, not at the fallback.
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(89);
    expect(transport.requests).toHaveLength(11);
    await jest.advanceTimersByTimeAsync(1);
    expect(await (await call).text()).toBe('hedge');
    expect(transport.requests).toHaveLength(12);
  });

  it('uses fallbackDelayMs until minSamples latencies have come', async () => {
    const slow = held();
    const { client, transport } = setup([slow.step, { status: 200 }], {
      delayMs: 'p95',
      fallbackDelayMs: 300,
    });
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(299);
    expect(transport.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    await call;
    expect(transport.requests).toHaveLength(2);
  });

  it('hedges each attempt of retry() above it', async () => {
    const seen: Array<[number, number]> = [];
    const mark: Middleware = (ctx, next) => {
      seen.push([ctx.attempt, hedgeNumber(ctx)]);
      return next(ctx);
    };
    const slow = held();
    const transport = mockTransport([{ status: 503 }, slow.step, { status: 200, body: 'hedge' }]);
    const client = createClient([
      retry({ sleep: async () => {} }),
      hedge({ delayMs: 100, budget: false }),
      mark,
      transport,
    ]);
    const call = client.get(URL_);
    await jest.advanceTimersByTimeAsync(100);
    expect(await (await call).text()).toBe('hedge');
    expect(seen).toEqual([
      [1, 0],
      [2, 0],
      [2, 1],
    ]);
  });

  it('is flagged by the stack check above retry() and when used twice', () => {
    const rules = (stack: Middleware[]) => lintStack(stack).map((w) => w.rule);
    expect(rules([retry(), hedge()])).toEqual([]);
    expect(rules([hedge(), retry()])).toEqual(['order']);
    expect(rules([retry(), hedge(), hedge()])).toEqual(['duplicate']);
  });

  it("fills budget options it is not given from its own defaults (10 %), not retry()'s", () => {
    expect(resolveHedgeOptions({}).budget!.tokens).toBe(1);
    const budget = resolveHedgeOptions({ budget: { perSecond: 0, ratio: undefined } }).budget!;
    // Full at 1 token; one hedge empties it; ten calls at 0.1 earn the next.
    expect(budget.withdraw()).toBe(true);
    for (let i = 0; i < 9; i++) budget.deposit();
    expect(budget.withdraw()).toBe(false);
    budget.deposit();
    expect(budget.withdraw()).toBe(true);
  });

  it.each([
    [{ delayMs: 'p100' }, 'delayMs'],
    [{ delayMs: 'p0' }, 'delayMs'],
    [{ delayMs: 'fast' }, 'delayMs'],
    [{ delayMs: -1 }, 'delayMs'],
    [{ maxHedges: 0 }, 'maxHedges'],
    [{ maxHedges: 1.5 }, 'maxHedges'],
    [{ window: 10, minSamples: 20 }, 'minSamples'],
    [{ statusCodes: [99] }, 'statusCodes[0]'],
    [{ budget: 'lots' }, 'budget'],
    [{ budget: { ratio: -1 } }, 'budget.ratio'],
    [{ delay: 100 }, 'delay'],
  ])('refuses %j with a ConfigError naming %s', (options, option) => {
    let error: unknown;
    try {
      hedge(options as HedgeOptions);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(option);
  });

  it('suggests the nearest option for an unknown one', () => {
    expect(() => hedge({ maxHedge: 2 } as HedgeOptions)).toThrow(/did you mean maxHedges/);
  });
});
