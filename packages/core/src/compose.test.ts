import { compose } from './compose.js';
import { createContext } from './context-init.js';
import { ConfigError } from './errors.js';
import { createResponse } from './response.js';
import type { Context, HttpResponse, Middleware, Next } from './types.js';

const makeCtx = (): Context =>
  createContext({
    request: {
      method: 'GET',
      url: new URL('http://api.test/'),
      headers: new Headers(),
      body: undefined,
    },
  });

const respond = (status = 200) =>
  createResponse({
    status,
    headers: new Headers(),
    url: 'http://api.test/',
    method: 'GET',
    body: null,
  });

const terminal: Next = async () => respond();

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('compose', () => {
  it('runs middleware outside-in and unwinds inside-out', async () => {
    const order: number[] = [];
    const stack: Middleware[] = [1, 2, 3].map((n) => async (_ctx, next) => {
      order.push(n);
      await wait(1);
      const res = await next();
      await wait(1);
      order.push(n * 10);
      return res;
    });
    await compose(...stack)(makeCtx(), terminal);
    expect(order).toEqual([1, 2, 3, 30, 20, 10]);
  });

  it('passes the same context along when next is called without an argument', async () => {
    const ctx = makeCtx();
    const seen: Context[] = [];
    const record: Middleware = (c, next) => {
      seen.push(c);
      return next();
    };
    await compose(record, record)(ctx, async (c) => {
      seen.push(c!);
      return respond();
    });
    expect(seen).toEqual([ctx, ctx, ctx]);
  });

  it('passes a new context to the rest of the chain when next is given one', async () => {
    const ctx = makeCtx();
    let inner: Context | undefined;
    const cloning: Middleware = (c, next) => next(c.clone({ attempt: 2 }));
    const record: Middleware = (c, next) => {
      inner = c;
      return next();
    };
    await compose(cloning, record)(ctx, terminal);
    expect(inner).not.toBe(ctx);
    expect(inner!.attempt).toBe(2);
    expect(ctx.attempt).toBe(1);
  });

  it('propagates the response back out, letting each layer replace it', async () => {
    const replace: Middleware = async (_ctx, next) => {
      const res = await next();
      return respond(res.status + 1);
    };
    const res = await compose(replace, replace)(makeCtx(), async () => respond(200));
    expect(res.status).toBe(202);
  });

  it('lets a middleware answer without calling next (short-circuit)', async () => {
    const inner = jest.fn<Promise<HttpResponse>, [Context, Next]>();
    const answer: Middleware = async () => respond(204);
    const final = jest.fn(terminal);
    const res = await compose(answer, inner)(makeCtx(), final);
    expect(res.status).toBe(204);
    expect(inner).not.toHaveBeenCalled();
    expect(final).not.toHaveBeenCalled();
  });

  it('rejects when a middleware throws, and outer layers can catch it', async () => {
    const boom: Middleware = async () => {
      throw new Error('boom');
    };
    const passedThrough: string[] = [];
    const observe: Middleware = async (_ctx, next) => {
      try {
        return await next();
      } finally {
        passedThrough.push('observe');
      }
    };
    const recover: Middleware = async (_ctx, next) => {
      try {
        return await next();
      } catch {
        return respond(599);
      }
    };
    await expect(compose(observe, boom)(makeCtx(), terminal)).rejects.toThrow('boom');
    expect(passedThrough).toEqual(['observe']);
    const res = await compose(recover, observe, boom)(makeCtx(), terminal);
    expect(res.status).toBe(599);
  });

  it('turns a synchronous throw into a rejection', async () => {
    const syncThrow: Middleware = () => {
      throw new Error('sync');
    };
    const result = compose(syncThrow)(makeCtx(), terminal);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toThrow('sync');
  });

  it('makes the next() of the layer above reject, never throw, when a middleware throws synchronously', async () => {
    const syncThrow: Middleware = () => {
      throw new Error('sync');
    };
    let caught: unknown;
    const catcher: Middleware = (_ctx, next) => {
      const pending = next(); // would throw here if next() were not guarded
      return pending.catch((error) => {
        caught = error;
        return respond(598);
      });
    };
    const res = await compose(catcher, syncThrow)(makeCtx(), terminal);
    expect(res.status).toBe(598);
    expect((caught as Error).message).toBe('sync');
  });

  it('rejects when the terminal rejects', async () => {
    const pass: Middleware = (_ctx, next) => next();
    await expect(compose(pass)(makeCtx(), () => Promise.reject(new Error('down')))).rejects.toThrow(
      'down',
    );
  });

  it('nests: a composition is itself a middleware', async () => {
    const order: string[] = [];
    const mark =
      (name: string): Middleware =>
      async (_ctx, next) => {
        order.push(name);
        return next();
      };
    const inner = compose(mark('b'), mark('c'));
    await compose(mark('a'), inner, mark('d'))(makeCtx(), terminal);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('works with zero middleware by calling the terminal', async () => {
    const final = jest.fn(terminal);
    const res = await compose()(makeCtx(), final);
    expect(res.status).toBe(200);
    expect(final).toHaveBeenCalledTimes(1);
  });

  it('lets a middleware call next more than once, each call running the rest of the chain', async () => {
    const seenAttempts: number[] = [];
    const twice: Middleware = async (ctx, next) => {
      await next(ctx.clone({ attempt: 1 }));
      return next(ctx.clone({ attempt: 2 }));
    };
    const record: Middleware = (ctx, next) => {
      seenAttempts.push(ctx.attempt);
      return next();
    };
    let terminalCalls = 0;
    await compose(twice, record)(makeCtx(), async () => {
      terminalCalls++;
      return respond();
    });
    expect(seenAttempts).toEqual([1, 2]);
    expect(terminalCalls).toBe(2);
  });

  it('lets a middleware call next concurrently (hedging), each call with its own ctx', async () => {
    const headersSeen: string[] = [];
    const hedge: Middleware = async (ctx, next) => {
      const [a, b] = await Promise.all([next(ctx.clone()), next(ctx.clone())]);
      return a.status <= b.status ? a : b;
    };
    let n = 0;
    const tag: Middleware = async (ctx, next) => {
      ctx.request.headers.set('x-try', String(++n));
      await wait(5);
      headersSeen.push(ctx.request.headers.get('x-try')!);
      return next();
    };
    await compose(hedge, tag)(makeCtx(), terminal);
    expect(headersSeen.sort()).toEqual(['1', '2']);
  });

  it('does not mutate the input array and is unaffected by later changes to it', async () => {
    const calls: string[] = [];
    const stack: Middleware[] = [
      async (_ctx, next) => {
        calls.push('first');
        return next();
      },
    ];
    const copy = [...stack];
    const composed = compose(...stack);
    stack.push(async () => {
      calls.push('late');
      return respond();
    });
    await composed(makeCtx(), terminal);
    expect(calls).toEqual(['first']);
    expect(stack.slice(0, 1)).toEqual(copy);
  });

  it('throws ConfigError naming the position when an element is not a function', () => {
    expect(() =>
      compose((async (_c: Context, n: Next) => n()) as Middleware, 42 as unknown as Middleware),
    ).toThrow(ConfigError);
    expect(() => compose(undefined as unknown as Middleware)).toThrow(/middleware\[0\]/);
  });

  it('keeps per-call state separate for concurrent calls through one composition', async () => {
    const composed = compose(async (ctx, next) => {
      ctx.state.set('id', ctx.request.url.pathname);
      await wait(2);
      return next();
    });
    const ctxs = ['/a', '/b'].map((path) =>
      createContext({
        request: {
          method: 'GET',
          url: new URL(`http://x${path}`),
          headers: new Headers(),
          body: undefined,
        },
      }),
    );
    await Promise.all(ctxs.map((ctx) => composed(ctx, terminal)));
    expect(ctxs.map((ctx) => ctx.state.get('id'))).toEqual(['/a', '/b']);
  });
});
