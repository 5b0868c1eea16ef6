import { inspect } from 'node:util';
import { ConfigError } from './errors.js';
import { MAX_TIMER_MS, option, readOptions, suggestOption } from './options.js';

describe('readOptions', () => {
  const SPEC = {
    maxAttempts: option.integer({ min: 1, default: 3 }),
    delayMs: option.ms({ default: 100 }),
    verbose: option.boolean(false),
    mode: option.oneOf(['a', 'b'] as const, 'a'),
    onEvent: option.fn(),
    backoff: option.object({ baseMs: option.ms({ default: 10 }) }, 'backoff'),
  };

  it('fills defaults for absent and undefined keys', () => {
    expect(readOptions('x()', { delayMs: undefined }, SPEC)).toEqual({
      maxAttempts: 3,
      delayMs: 100,
      verbose: false,
      mode: 'a',
      onEvent: undefined,
      backoff: { baseMs: 10 },
    });
  });

  it.each([
    ['maxRetries', 'maxAttempts'],
    ['maxAtempts', 'maxAttempts'],
    ['Verbose', 'verbose'],
    ['delay', 'delayMs'],
  ])('refuses the unknown key %s and suggests %s', (key, hint) => {
    expect(() => readOptions('x()', { [key]: 1 }, SPEC)).toThrow(
      new RegExp(`option ${key} \\(unknown option of x\\(\\); did you mean ${hint}\\?\\)`),
    );
  });

  it('names a nested unknown key with its path and suggests from its own level', () => {
    expect(() => readOptions('x()', { backoff: { baseMS: 1 } }, SPEC)).toThrow(
      /option backoff\.baseMS .*did you mean baseMs\?/,
    );
  });

  it('lists the known keys when nothing is close', () => {
    expect(() => readOptions('x()', { zzzzzzzz: 1 }, SPEC)).toThrow(/known: maxAttempts, delayMs/);
  });

  it.each([
    ['maxAttempts', 0],
    ['maxAttempts', 1.5],
    ['delayMs', MAX_TIMER_MS + 1],
    ['delayMs', Number.NaN],
    ['delayMs', '100'],
    ['verbose', 'false'],
    ['verbose', 1],
    ['mode', 'c'],
    ['onEvent', 'fn'],
    ['backoff', 5],
  ])('refuses %s = %p, naming the option', (key, value) => {
    const attempt = () => readOptions('x()', { [key]: value }, SPEC);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(new RegExp(`Invalid option ${key}`));
  });

  it('reads own properties only: a polluted Object.prototype changes nothing', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.verbose = true;
    proto.maxAttempts = 99;
    try {
      expect(readOptions('x()', {}, SPEC)).toMatchObject({ verbose: false, maxAttempts: 3 });
    } finally {
      delete proto.verbose;
      delete proto.maxAttempts;
    }
  });

  it('takes a __proto__ key from parsed JSON as an unknown option, without reaching the prototype', () => {
    expect(() => readOptions('x()', JSON.parse('{"__proto__": {"verbose": true}}'), SPEC)).toThrow(
      /option __proto__/,
    );
    expect(suggestOption('__proto__', ['a'])).toBeUndefined();
    expect(suggestOption('constructor', ['a'])).toBeUndefined();
  });

  it('refuses a non-object', () => {
    expect(() => readOptions('x()', 5, SPEC)).toThrow(/Invalid option options: 5/);
    expect(() => readOptions('x()', [], SPEC)).toThrow(/expected an object/);
  });

  it('never quotes a secret, in the message, the stack or util.inspect', () => {
    const spec = { token: option.secret(option.string()) };
    try {
      readOptions('auth()', { token: ['s3cret-value'] }, spec);
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(inspect(error, { showHidden: true, depth: 5 })).not.toContain('s3cret');
      expect((error as Error).message).toMatch(/Invalid option token: \[REDACTED\]/);
    }
  });

  it('allows Infinity only where asked', () => {
    const spec = { max: option.integer({ infinity: true }), n: option.integer() };
    expect(readOptions('x()', { max: Number.POSITIVE_INFINITY }, spec).max).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(() => readOptions('x()', { n: Number.POSITIVE_INFINITY }, spec)).toThrow(
      /Invalid option n/,
    );
  });

  it('checks array items by index and loggers by method', () => {
    const spec = { names: option.array(option.string<never>()), logger: option.logger(['warn']) };
    expect(() => readOptions('x()', { names: ['a', 5] }, spec)).toThrow(/names\[1\]/);
    expect(() => readOptions('x()', { logger: { info() {} } }, spec)).toThrow(/warn\(\)/);
    expect(readOptions('x()', { logger: console }, spec).logger).toBe(console);
  });
});
