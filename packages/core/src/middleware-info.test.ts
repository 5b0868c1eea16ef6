import { isConfigError } from './error-guards.js';
import { defineMiddleware, middlewareInfo, middlewareName } from './middleware-info.js';
import type { Context, Next } from './types.js';

const pass = async (ctx: Context, next: Next) => next(ctx);

describe('defineMiddleware', () => {
  it('returns the very function it was given, so a call costs nothing more', () => {
    const fn = async (ctx: Context, next: Next) => next(ctx);
    expect(defineMiddleware(fn, { name: 'x' })).toBe(fn);
  });

  it('stores a frozen declaration with defaults, hidden from enumeration', () => {
    const fn = defineMiddleware(async (ctx: Context, next: Next) => next(ctx), {
      name: 'sign',
      placement: { per: 'attempt', inside: ['headers', 'headers'] },
    });
    expect(middlewareInfo(fn)).toEqual({
      name: 'sign',
      placement: {
        per: 'attempt',
        inside: ['headers'],
        outside: [],
        resends: false,
        unique: false,
        terminal: false,
        reason: undefined,
      },
    });
    expect(Object.isFrozen(middlewareInfo(fn))).toBe(true);
    expect(Object.keys(fn)).toEqual([]);
  });

  it('is read through a global symbol, so another copy of core recognises it', () => {
    const fn = defineMiddleware(async (ctx: Context, next: Next) => next(ctx), { name: 'shared' });
    const stored = (fn as unknown as Record<symbol, { name: string }>)[
      Symbol.for('extapi.middleware')
    ];
    expect(stored?.name).toBe('shared');
  });

  it.each([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 'x', placement: { per: 'always' } }, 'placement.per'],
    [{ name: 'x', placement: { inside: 'retry' } }, 'placement.inside'],
    [{ name: 'x', placement: { resend: true } }, 'placement.resend'],
    [{ name: 'x', colour: 'red' }, 'colour'],
  ])('refuses a bad declaration %j with a ConfigError naming %s', (info, option) => {
    let error: unknown;
    try {
      defineMiddleware(async (ctx: Context, next: Next) => next(ctx), info as never);
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(option);
  });

  it('names undeclared middleware anonymous, never by their function name', () => {
    expect(middlewareName(pass)).toBe('anonymous');
    expect(middlewareInfo(pass)).toBeUndefined();
    expect(middlewareName(defineMiddleware(pass, { name: 'renamed' }))).toBe('renamed');
  });
});
