import { createClient } from './client.js';
import { defineMiddleware, type MiddlewarePlacement } from './middleware-info.js';
import { lintStack, STACK_ORDER_WARNING_CODE } from './stack-lint.js';
import { mockTransport } from './testing/mock-transport.js';
import type { Context, HttpResponse, Middleware, Next } from './types.js';

// Stand-ins declared the way the @extapi/middleware factories declare themselves (core cannot
// depend on the middleware package; the lint reads declarations only).
function declared(name: string, placement: MiddlewarePlacement = {}): Middleware {
  return defineMiddleware(async (ctx: Context, next: Next): Promise<HttpResponse> => next(ctx), {
    name,
    placement,
  });
}
const named = (name: string) => declared(name);
const retry = () =>
  declared('retry', { resends: true, unique: true, reason: 'the attempts multiply' });
const expectStatus = () => declared('expectStatus', { per: 'attempt' });
// A static bearerAuth (refreshOn401: false) declares no placement: its place does not matter.
const bearerAuth = (refreshOn401 = true) =>
  declared('bearerAuth', refreshOn401 ? { per: 'attempt' } : {});

function logger() {
  const warn = jest.fn();
  return { debug: jest.fn(), info: jest.fn(), warn, error: jest.fn() };
}

describe('lintStack', () => {
  it('finds nothing wrong in the recommended stack', () => {
    expect(
      lintStack([
        named('logging'),
        named('timeout'),
        retry(),
        named('timeout'),
        expectStatus(),
        bearerAuth(),
      ]),
    ).toEqual([]);
  });

  it('finds nothing without a retry, whatever the order', () => {
    expect(lintStack([expectStatus(), bearerAuth(), named('rateLimit')])).toEqual([]);
  });

  it('flags expectStatus placed before retry, naming both positions', () => {
    const [warning, ...rest] = lintStack([named('logging'), expectStatus(), retry()]);
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({ rule: 'outside-retry', positions: [1, 2] });
    expect(warning!.message).toContain(
      'expectStatus (stack[1]) runs once per attempt but is outside retry (stack[2])',
    );
  });

  it('flags bearerAuth before retry when it refreshes on 401 (the default)', () => {
    expect(lintStack([bearerAuth(), retry()])).toEqual([
      expect.objectContaining({ rule: 'outside-retry', positions: [0, 1] }),
    ]);
    expect(lintStack([bearerAuth(true), retry()])).toHaveLength(1);
  });

  it('leaves a static bearerAuth (refreshOn401: false) before retry alone', () => {
    expect(lintStack([bearerAuth(false), retry()])).toEqual([]);
  });

  it('flags two retries, since their attempts multiply', () => {
    expect(lintStack([retry(), named('timeout'), retry()])).toEqual([
      expect.objectContaining({ rule: 'duplicate', positions: [0, 2] }),
    ]);
  });

  it('treats anything before the innermost retry as outside retry', () => {
    const rules = lintStack([retry(), expectStatus(), retry()]).map((w) => w.rule);
    expect(rules).toEqual(['outside-retry', 'duplicate']);
  });

  it('ignores middleware that declared nothing, whatever their function name', () => {
    async function expectStatusLookalike(ctx: Context, next: Next) {
      return next(ctx);
    }
    Object.defineProperty(expectStatusLookalike, 'name', { value: 'expectStatus' });
    expect(lintStack([expectStatusLookalike, async (ctx, next) => next(ctx), retry()])).toEqual([]);
  });

  it('flags a per-call middleware placed after a re-sending one', () => {
    const once = declared('idempotencyKey', { per: 'call', reason: 'one key for all attempts' });
    const [warning] = lintStack([retry(), once]);
    expect(warning).toMatchObject({ rule: 'inside-retry', positions: [0, 1] });
    expect(warning!.message).toBe(
      'idempotencyKey (stack[1]) runs once per call but is inside retry (stack[0]): one key for all attempts; place idempotencyKey() before retry()',
    );
  });

  it('checks inside/outside constraints between named middleware, only when both are present', () => {
    const signer = declared('sign', { inside: ['headers'], reason: 'it signs the final headers' });
    expect(lintStack([signer, named('headers')])).toEqual([
      expect.objectContaining({ rule: 'order', positions: [0, 1] }),
    ]);
    expect(lintStack([named('headers'), signer])).toEqual([]);
    expect(lintStack([signer])).toEqual([]);
    const outer = declared('breaker', { outside: ['retry'] });
    expect(lintStack([retry(), outer])).toEqual([
      expect.objectContaining({ rule: 'order', positions: [0, 1] }),
    ]);
  });

  it('flags middleware after a terminal one, but not the transport that ends the stack', () => {
    const stub = declared('stub', { terminal: true });
    expect(lintStack([stub, named('headers')])).toEqual([
      expect.objectContaining({ rule: 'after-terminal', positions: [0, 1] }),
    ]);
    expect(lintStack([named('headers'), stub, mockTransport()])).toEqual([]);
  });
});

describe('createClient stack-order warnings', () => {
  it('warns once through the logger with the code, the stack and the rules', () => {
    const log = logger();
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      createClient([expectStatus(), retry(), mockTransport()], { logger: log });
      expect(log.warn).toHaveBeenCalledTimes(1);
      const [fields, message] = log.warn.mock.calls[0]!;
      expect(fields).toEqual({
        code: STACK_ORDER_WARNING_CODE,
        stack: ['expectStatus', 'retry'],
        rules: ['outside-retry'],
      });
      expect(message).toMatch(/^extapi: likely mistake in the stack order: expectStatus/);
      expect(emit).not.toHaveBeenCalled();
    } finally {
      emit.mockRestore();
    }
  });

  it('does not warn at request time, only at creation', async () => {
    const log = logger();
    const client = createClient([bearerAuth(), retry(), mockTransport()], { logger: log });
    await client.get('http://api.test/a');
    await client.get('http://api.test/b');
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it('emits one process warning per distinct message without a logger', () => {
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      // A stack no other test uses, so the once-per-process memory starts empty for it.
      const stack = () => [named('tag'), bearerAuth(), retry(), retry(), mockTransport()];
      createClient(stack());
      createClient(stack());
      expect(emit).toHaveBeenCalledTimes(1);
      expect(emit.mock.calls[0]![1]).toEqual({ code: 'EXTAPI_STACK_ORDER' });
      expect(String(emit.mock.calls[0]![0])).toContain('retry appears 2 times');
    } finally {
      emit.mockRestore();
    }
  });

  it('stays silent for a well-ordered stack', () => {
    const log = logger();
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      createClient([retry(), expectStatus(), bearerAuth(), mockTransport()], { logger: log });
      createClient([retry(), expectStatus(), bearerAuth(), mockTransport()]);
      expect(log.warn).not.toHaveBeenCalled();
      expect(emit).not.toHaveBeenCalled();
    } finally {
      emit.mockRestore();
    }
  });

  it('still builds the client when the logger throws', () => {
    const log = logger();
    log.warn.mockImplementation(() => {
      throw new Error('logger down');
    });
    const client = createClient([expectStatus(), retry(), mockTransport()], { logger: log });
    expect(client.describe()).toEqual(['expectStatus', 'retry', 'mockTransport']);
  });

  it('names middleware by their declaration in describe(), anonymous when they declared none', () => {
    async function myStep(ctx: Context, next: Next) {
      return next(ctx);
    }
    const client = createClient([myStep, retry(), mockTransport()]);
    expect(client.describe()).toEqual(['anonymous', 'retry', 'mockTransport']);
  });
});
