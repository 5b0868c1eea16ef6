import {
  CircuitOpenError,
  type Client,
  createClient,
  HttpStatusError,
  isCircuitOpenError,
  isConfigError,
  type Middleware,
  recordAttempts,
  TimeoutError,
  TransportError,
} from '@extapi/core';
import { type MockStep, mockTransport } from '@extapi/core/testing';
import {
  type CircuitBreakerOptions,
  type CircuitStateChange,
  circuitBreaker,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  resolveCircuitBreakerOptions,
} from './circuit-breaker.js';

const refused = () => new TransportError('connect ECONNREFUSED', 'ECONNREFUSED');
const OK: MockStep = { status: 200 };
const FAIL: MockStep = { status: 503 };

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// A breaker on a fake clock, a transport whose answers a test can switch, and the hook calls.
function setup(options: CircuitBreakerOptions = {}, answer: (url: URL) => MockStep = () => OK) {
  const clock = { t: 1_000 };
  const changes: CircuitStateChange[] = [];
  const breaker = circuitBreaker({
    minimumCalls: 4,
    failureRatio: 0.5,
    windowMs: 1_000,
    openMs: 500,
    now: () => clock.t,
    onStateChange: (change) => changes.push(change),
    ...options,
  });
  const transport = mockTransport([], {
    fallback: async (ctx) => {
      const step = answer(ctx.request.url);
      return typeof step === 'function' ? step(ctx, 0) : step;
    },
  });
  const client = createClient([breaker, transport]);
  return { clock, changes, breaker, transport, client };
}

// Sends a call and reports what became of it, so a test can run a sequence without try/catch.
async function call(client: Client, url = 'http://a.test/x'): Promise<number | string> {
  try {
    return (await client.get(url)).status;
  } catch (error) {
    return (error as Error).name;
  }
}

describe('circuitBreaker()', () => {
  it('stays closed below minimumCalls even when every call fails', async () => {
    const { client, transport, changes } = setup({}, () => FAIL);
    for (let i = 0; i < 3; i++) expect(await call(client)).toBe(503);
    expect(changes).toEqual([]);
    expect(transport.requests).toHaveLength(3);
  });

  it('opens once minimumCalls calls in the window reach failureRatio', async () => {
    let next: MockStep = OK;
    const { client, transport, changes, breaker } = setup({}, () => next);
    expect(await call(client)).toBe(200);
    expect(await call(client)).toBe(200);
    next = FAIL;
    expect(await call(client)).toBe(503);
    expect(breaker.state('http://a.test')).toBe('closed');
    // 2 failures of 4 calls = 0.5: the response that tips it is still returned.
    expect(await call(client)).toBe(503);
    expect(changes).toEqual([{ key: 'http://a.test', from: 'closed', to: 'open' }]);
    expect(breaker.state('http://a.test')).toBe('open');
    expect(transport.requests).toHaveLength(4);
  });

  it('stays closed while the failure ratio is below failureRatio', async () => {
    const script = [OK, OK, OK, FAIL, OK, FAIL];
    let i = 0;
    const { client, changes } = setup({ failureRatio: 0.4 }, () => script[i++]!);
    for (let n = 0; n < script.length; n++) await call(client);
    // 2 of 6 = 0.33 < 0.4
    expect(changes).toEqual([]);
  });

  it('fails fast with CircuitOpenError while open, without calling the transport', async () => {
    const { client, transport, clock } = setup({}, () => ({ error: refused() }));
    for (let i = 0; i < 4; i++) expect(await call(client)).toBe('TransportError');
    clock.t += 499;
    const error = await client.get('http://a.test/items?token=s3cret').catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ code: 'ERR_CIRCUIT_OPEN', method: 'GET' });
    expect((error as Error).message).toContain('http://a.test');
    expect((error as Error).message).not.toContain('s3cret');
    expect(transport.requests).toHaveLength(4);
  });

  it.each<[string, MockStep, boolean]>([
    ['a network error (TransportError)', { error: refused() }, true],
    ['a TimeoutError', { error: new TimeoutError(100, { phase: 'middleware' }) }, true],
    ['a 500 response', { status: 500 }, true],
    ['a 503 response', { status: 503 }, true],
    [
      'the network error retry() rethrows after its last attempt',
      { error: recordAttempts(refused(), 2, [refused()]) },
      true,
    ],
    ['a 404 response', { status: 404 }, false],
    ['a 429 response', { status: 429 }, false],
    ['a foreign error', { error: new Error('bug in a middleware') }, false],
  ])('counts %s as a failure: %p', async (_name, step, failure) => {
    const { client, breaker } = setup({ minimumCalls: 1, failureRatio: 1 }, () => step);
    await call(client);
    expect(breaker.state('http://a.test')).toBe(failure ? 'open' : 'closed');
  });

  it('counts an HttpStatusError thrown inside it by its status: 5xx fails, 4xx does not', async () => {
    const expectOk: Middleware = async function expectOk(ctx, next) {
      const res = await next(ctx);
      if (!res.ok) throw new HttpStatusError(res);
      return res;
    };
    const breaker = circuitBreaker({ minimumCalls: 1, failureRatio: 1 });
    const client = createClient([
      breaker,
      expectOk,
      mockTransport([], {
        fallback: (ctx) => ({ status: ctx.request.url.host === 'a.test' ? 502 : 404 }),
      }),
    ]);
    await expect(client.get('http://b.test/')).rejects.toBeInstanceOf(HttpStatusError);
    expect(breaker.state('http://b.test')).toBe('closed');
    await expect(client.get('http://a.test/')).rejects.toBeInstanceOf(HttpStatusError);
    expect(breaker.state('http://a.test')).toBe('open');
  });

  it("does not count a caller's abort as a failure", async () => {
    const { client, transport, changes } = setup({ minimumCalls: 2, failureRatio: 1 }, () => ({
      status: 200,
      delayMs: 10_000,
    }));
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const pending = client.get('http://a.test/', { signal: controller.signal });
      controller.abort(new Error('caller gave up'));
      await expect(pending).rejects.toThrow('caller gave up');
    }
    expect(changes).toEqual([]);
    expect(transport.requests).toHaveLength(3);
  });

  it('counts a deadline as a failure even though it aborts the signal', async () => {
    const { client, breaker } = setup({ minimumCalls: 2, failureRatio: 1 }, () => ({
      status: 200,
      delayMs: 10_000,
    }));
    for (let i = 0; i < 2; i++) {
      await expect(client.get('http://a.test/', { timeoutMs: 5 })).rejects.toBeInstanceOf(
        TimeoutError,
      );
    }
    expect(breaker.state('http://a.test')).toBe('open');
  });

  it('after openMs lets exactly one probe through and closes when it succeeds', async () => {
    let next: MockStep = FAIL;
    const { client, transport, clock, changes, breaker } = setup({}, () => next);
    for (let i = 0; i < 4; i++) await call(client);
    clock.t += 500;
    const gate = deferred<void>();
    next = async () => {
      await gate.promise;
      return { status: 200 };
    };
    const probe = call(client);
    expect(breaker.state('http://a.test')).toBe('half-open');
    // Concurrent calls during the probe fail fast and send nothing.
    expect(await Promise.all([call(client), call(client)])).toEqual([
      'CircuitOpenError',
      'CircuitOpenError',
    ]);
    expect(transport.requests).toHaveLength(5);
    gate.resolve();
    expect(await probe).toBe(200);
    expect(breaker.state('http://a.test')).toBe('closed');
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->closed',
    ]);
    // Closed again with an empty window: three failures are not enough to reopen it.
    next = FAIL;
    for (let i = 0; i < 3; i++) expect(await call(client)).toBe(503);
    expect(breaker.state('http://a.test')).toBe('closed');
  });

  it('reopens for another openMs when the probe fails', async () => {
    const { client, transport, clock, changes, breaker } = setup({}, () => ({ error: refused() }));
    for (let i = 0; i < 4; i++) await call(client);
    clock.t += 500;
    expect(await call(client)).toBe('TransportError');
    expect(breaker.state('http://a.test')).toBe('open');
    clock.t += 499;
    expect(await call(client)).toBe('CircuitOpenError');
    expect(transport.requests).toHaveLength(5);
    clock.t += 1;
    expect(await call(client)).toBe('TransportError');
    expect(transport.requests).toHaveLength(6);
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->open',
    ]);
  });

  it('lets the next call probe when the probe is aborted by its caller', async () => {
    let next: MockStep = FAIL;
    const { client, clock, breaker } = setup({}, () => next);
    for (let i = 0; i < 4; i++) await call(client);
    clock.t += 500;
    next = { status: 200, delayMs: 10_000 };
    const controller = new AbortController();
    const probe = client.get('http://a.test/', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(probe).rejects.toThrow('stop');
    expect(breaker.state('http://a.test')).toBe('half-open');
    next = OK;
    expect(await call(client)).toBe(200);
    expect(breaker.state('http://a.test')).toBe('closed');
  });

  it('ignores the late outcome of a call that started before the circuit opened', async () => {
    const slow = deferred<void>();
    let next: MockStep = async () => {
      await slow.promise;
      return { status: 500 };
    };
    const { client, clock, breaker } = setup({}, () => next);
    const late = call(client);
    next = FAIL;
    for (let i = 0; i < 4; i++) await call(client);
    clock.t += 500;
    const gate = deferred<void>();
    next = async () => {
      await gate.promise;
      return { status: 200 };
    };
    const probe = call(client);
    slow.resolve();
    expect(await late).toBe(500);
    expect(breaker.state('http://a.test')).toBe('half-open');
    gate.resolve();
    expect(await probe).toBe(200);
    expect(breaker.state('http://a.test')).toBe('closed');
  });

  it('forgets failures older than windowMs', async () => {
    const { client, clock, breaker } = setup({}, () => FAIL);
    for (let i = 0; i < 3; i++) await call(client);
    clock.t += 1_000;
    await call(client);
    expect(breaker.state('http://a.test')).toBe('closed');
    // Failures spread inside one window do add up.
    for (let i = 0; i < 3; i++) {
      clock.t += 200;
      await call(client);
    }
    expect(breaker.state('http://a.test')).toBe('open');
  });

  it('keeps one circuit per origin, so one failing upstream does not stop another', async () => {
    const { client, transport, breaker } = setup({}, (url) =>
      url.hostname === 'bad.test' ? FAIL : OK,
    );
    for (let i = 0; i < 4; i++) await call(client, 'http://bad.test/x');
    expect(await call(client, 'http://bad.test/y')).toBe('CircuitOpenError');
    expect(await call(client, 'http://good.test/x')).toBe(200);
    expect(await call(client, 'http://bad.test:8080/x')).toBe(503);
    expect(breaker.state('http://bad.test')).toBe('open');
    expect(breaker.state('http://good.test')).toBe('closed');
    expect(transport.requests).toHaveLength(6);
  });

  it('groups calls by a custom key', async () => {
    const { client, changes } = setup(
      { key: (ctx) => ctx.request.url.pathname.split('/')[1]! },
      (url) => (url.pathname.startsWith('/search') ? FAIL : OK),
    );
    for (let i = 0; i < 4; i++) await call(client, `http://a.test/search?q=${i}`);
    expect(await call(client, 'http://a.test/search')).toBe('CircuitOpenError');
    expect(await call(client, 'http://a.test/items')).toBe(200);
    expect(changes).toEqual([{ key: 'search', from: 'closed', to: 'open' }]);
  });

  it('drops idle circuits so that unbounded keys do not accumulate', async () => {
    const { client, clock, breaker, changes } = setup({}, () => OK);
    for (let i = 0; i < 50; i++) await call(client, `http://host${i}.test/`);
    expect(breaker.size).toBe(50);
    clock.t += 1_000;
    await call(client, 'http://fresh.test/');
    expect(breaker.size).toBe(1);
    expect(changes).toEqual([]);
  });

  it('keeps an open circuit until openMs and a window have passed without calls', async () => {
    const { client, clock, breaker } = setup({}, () => FAIL);
    for (let i = 0; i < 4; i++) await call(client);
    // Swept at t + 1000, only 500 ms after openMs ended: kept.
    clock.t += 1_000;
    await call(client, 'http://other.test/');
    expect(breaker.state('http://a.test')).toBe('open');
    expect(breaker.size).toBe(2);
    // Swept at t + 2000, a full window after openMs ended: dropped, and it starts closed.
    clock.t += 1_000;
    await call(client, 'http://other.test/');
    expect(breaker.size).toBe(1);
    expect(breaker.state('http://a.test')).toBe('closed');
    expect(await call(client)).toBe(503);
  });

  it('ignores errors thrown by onStateChange', async () => {
    const { client } = setup(
      {
        minimumCalls: 1,
        onStateChange: () => {
          throw new Error('hook bug');
        },
      },
      () => FAIL,
    );
    expect(await call(client)).toBe(503);
    expect(await call(client)).toBe('CircuitOpenError');
  });

  it('uses the documented defaults', async () => {
    expect(DEFAULT_CIRCUIT_BREAKER_OPTIONS).toMatchObject({
      failureRatio: 0.5,
      minimumCalls: 20,
      windowMs: 10_000,
      openMs: 5_000,
    });
    const clock = { t: 0 };
    const breaker = circuitBreaker({ now: () => clock.t });
    expect(breaker.name).toBe('circuitBreaker');
    const client = createClient([breaker, mockTransport([FAIL])]);
    for (let i = 0; i < 19; i++) await call(client);
    expect(breaker.state('http://a.test')).toBe('closed');
    await call(client);
    expect(breaker.state('http://a.test')).toBe('open');
    clock.t += 4_999;
    expect(await call(client)).toBe('CircuitOpenError');
    clock.t += 1;
    expect(await call(client)).toBe(503);
  });

  it.each([
    [{ failureRatio: 0 }, 'failureRatio'],
    [{ failureRatio: 1.5 }, 'failureRatio'],
    [{ failureRatio: Number.NaN }, 'failureRatio'],
    [{ minimumCalls: 0 }, 'minimumCalls'],
    [{ minimumCalls: 2.5 }, 'minimumCalls'],
    [{ windowMs: 0 }, 'windowMs'],
    [{ windowMs: Number.POSITIVE_INFINITY }, 'windowMs'],
    [{ openMs: -1 }, 'openMs'],
    [{ openMs: '5000' }, 'openMs'],
    [{ key: 'origin' }, 'key'],
    [{ onStateChange: true }, 'onStateChange'],
    [{ now: 0 }, 'now'],
  ])('rejects %p at creation with a ConfigError naming %s', (options, option) => {
    let caught: unknown;
    try {
      circuitBreaker(options as never);
    } catch (error) {
      caught = error;
    }
    expect(isConfigError(caught)).toBe(true);
    expect(caught).toMatchObject({ option });
  });

  it('accepts failureRatio 1 and treats an explicit undefined as the default', () => {
    expect(resolveCircuitBreakerOptions({ failureRatio: 1, openMs: undefined })).toMatchObject({
      failureRatio: 1,
      openMs: 5_000,
    });
  });
});
