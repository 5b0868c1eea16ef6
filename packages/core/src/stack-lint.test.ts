import { createClient } from './client.js';
import { lintStack, STACK_ORDER_WARNING_CODE } from './stack-lint.js';
import { mockTransport } from './testing/mock-transport.js';
import type { Context, HttpResponse, Middleware, Next } from './types.js';

// Stand-ins with the names the @extapi/middleware factories give their functions: core cannot
// depend on the middleware package, and the lint looks at names only.
function named(name: string, props: object = {}): Middleware {
  const fn = async (ctx: Context, next: Next): Promise<HttpResponse> => next(ctx);
  Object.defineProperty(fn, 'name', { value: name });
  return Object.assign(fn, props);
}
const retry = () => named('retry');
const expectStatus = () => named('expectStatus');
const bearerAuth = (refreshOn401?: boolean) =>
  named('bearerAuth', refreshOn401 === undefined ? {} : { refreshOn401 });

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
    expect(warning).toMatchObject({ rule: 'expect-status-outside-retry', positions: [1, 2] });
    expect(warning!.message).toContain('expectStatus (stack[1]) is outside retry (stack[2])');
  });

  it('flags bearerAuth before retry when it refreshes on 401 (the default)', () => {
    expect(lintStack([bearerAuth(), retry()])).toEqual([
      expect.objectContaining({ rule: 'bearer-auth-outside-retry', positions: [0, 1] }),
    ]);
    expect(lintStack([bearerAuth(true), retry()])).toHaveLength(1);
  });

  it('leaves a static bearerAuth (refreshOn401: false) before retry alone', () => {
    expect(lintStack([bearerAuth(false), retry()])).toEqual([]);
  });

  it('flags two retries, since their attempts multiply', () => {
    expect(lintStack([retry(), named('timeout'), retry()])).toEqual([
      expect.objectContaining({ rule: 'retry-twice', positions: [0, 2] }),
    ]);
  });

  it('treats anything before the innermost retry as outside retry', () => {
    const rules = lintStack([retry(), expectStatus(), retry()]).map((w) => w.rule);
    expect(rules).toEqual(['expect-status-outside-retry', 'retry-twice']);
  });

  it('ignores anonymous and renamed middleware', () => {
    expect(lintStack([async (ctx, next) => next(ctx), named('myCheck'), retry()])).toEqual([]);
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
        rules: ['expect-status-outside-retry'],
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
});
