// The options kit: one way to read and validate every options object, for this project and for
// middleware authors. Runs once per factory (never per request): own properties only, unknown keys
// refused with a "did you mean", milliseconds capped at what a timer can hold, credentials never quoted.
import { ConfigError } from './errors.js';
import { REDACTED } from './redact.js';

/** The longest delay a timer can hold (2^31 − 1 ms, about 24.8 days); Node fires longer ones at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Validates one option: receives the raw value (`undefined` when absent) and the option's name for
 * errors, returns the value to use (its default when absent) or throws `ConfigError`.
 */
export type OptionCheck<T> = (value: unknown, option: string) => T;

/** A spec for an options type: one check for every key of `Input`, no more and no fewer. */
export type OptionSpec<Input> = { readonly [K in keyof Required<Input>]: OptionCheck<unknown> };

/** What {@link readOptions} returns for a spec: each key's checked value. */
export type ResolvedOptions<S> = {
  -readonly [K in keyof S]: S[K] extends OptionCheck<infer T> ? T : never;
};

// Names users bring from other clients (axios, got, ky, undici, the Python extapi), mapped to ours.
const FOREIGN_NAMES: Record<string, readonly string[]> = {
  params: ['query'],
  searchparams: ['query'],
  timeout: ['timeoutMs', 'ms'],
  maxretries: ['maxAttempts'],
  retries: ['maxAttempts'],
  limit: ['maxAttempts', 'limit'],
  prefixurl: ['baseUrl'],
  baseurl: ['baseUrl'],
  data: ['json', 'body'],
  responsetype: ['readBody'],
  maxredirects: ['maxRedirects'],
  followredirect: ['redirect'],
  maxcontentlength: ['maxResponseBytes'],
  maxbodylength: ['maxResponseBytes'],
  auth: ['headers'],
};

/** Damerau–Levenshtein distance (optimal string alignment), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known option closest to `name`: a known spelling in another client (`params` → `query`,
 * `maxRetries` → `maxAttempts`), else the nearest by edit distance within a third of its length.
 * @example
 * suggestOption('maxAtempts', ['maxAttempts', 'backoff']); // 'maxAttempts'
 */
export function suggestOption(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  // hasOwn: a key such as `__proto__` must not reach Object.prototype through the table.
  for (const candidate of Object.hasOwn(FOREIGN_NAMES, lower) ? FOREIGN_NAMES[lower]! : []) {
    if (known.includes(candidate)) return candidate;
  }
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The `ConfigError` for an option name that `scope` does not know, with the nearest known name.
 * @example
 * throw unknownOption('retry()', 'maxRetries', ['maxAttempts']); // … did you mean maxAttempts?
 */
export function unknownOption(scope: string, name: string, known: readonly string[]): ConfigError {
  // A nested option (`backoff.maxMS`) is compared by its own key.
  const hint = suggestOption(name.slice(name.lastIndexOf('.') + 1), known);
  return new ConfigError(
    name,
    undefined,
    `unknown option of ${scope}${hint ? `; did you mean ${hint}?` : `; known: ${known.join(', ')}`}`,
  );
}

/**
 * Reads an options object against a spec: only own enumerable properties are read (a polluted
 * `Object.prototype` changes nothing), an unknown key throws `ConfigError` with a "did you mean",
 * and each value goes through its check (`undefined` means the default). `scope` names the
 * factory in errors, e.g. `'retry()'`.
 * @example
 * const SPEC = {
 *   maxAttempts: option.integer({ min: 1, default: 3 }),
 *   onRetry: option.fn(),
 * } satisfies OptionSpec<MyOptions>;
 * const { maxAttempts, onRetry } = readOptions('myRetry()', input, SPEC);
 */
export function readOptions<S extends Record<string, OptionCheck<unknown>>>(
  scope: string,
  input: unknown,
  spec: S,
  prefix = '',
): ResolvedOptions<S> {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(prefix ? prefix.slice(0, -1) : 'options', input, 'expected an object');
  }
  const known = Object.keys(spec);
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(spec, key)) throw unknownOption(scope, prefix + key, known);
  }
  const out = {} as Record<string, unknown>;
  for (const key of known) {
    const value = Object.hasOwn(input, key) ? (input as Record<string, unknown>)[key] : undefined;
    out[key] = spec[key]!(value, prefix + key);
  }
  return out as ResolvedOptions<S>;
}

interface NumberRange<D> {
  /** The value when the option is absent. */
  default?: D;
  /** The smallest allowed value. @default 0 */
  min?: number;
  /** The largest allowed value. */
  max?: number;
  /** Whether `Infinity` is allowed (meaning "no limit"). @default false */
  infinity?: boolean;
}

function numberCheck<D>(kind: 'number' | 'integer' | 'ms', range: NumberRange<D>) {
  const min = range.min ?? 0;
  const max = kind === 'ms' ? Math.min(range.max ?? MAX_TIMER_MS, MAX_TIMER_MS) : range.max;
  const unit = kind === 'ms' ? ' ms' : '';
  const what = kind === 'integer' ? 'an integer' : kind === 'ms' ? 'a number of ms' : 'a number';
  const expected = `expected ${what} from ${min}${max === undefined ? '' : ` to ${max}${unit}`}${range.infinity ? ' or Infinity' : ''}`;
  return (value: unknown, name: string): number | D => {
    if (value === undefined) return range.default as D;
    if (typeof value === 'number' && value === Number.POSITIVE_INFINITY && range.infinity) {
      return value;
    }
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (kind === 'integer' && !Number.isInteger(value)) ||
      value < min ||
      (max !== undefined && value > max)
    ) {
      throw new ConfigError(name, value, expected);
    }
    return value;
  };
}

/** The `ConfigError` for a credential option: the value is never quoted, only its type. */
function secretError(name: string, value: unknown, expected: string): ConfigError {
  return new ConfigError(name, value === undefined ? undefined : REDACTED, expected);
}

/** Checks for {@link readOptions} specs; each returns the option's default when it is absent. */
export const option = {
  /** A duration in ms from `min` (default 0) to `max`, never above {@link MAX_TIMER_MS}. */
  ms: <D = undefined>(
    range: Omit<NumberRange<D>, 'infinity'> = {},
  ): OptionCheck<number | NoInfer<D>> => numberCheck('ms', range),
  /** An integer in a range; `infinity: true` also allows `Infinity`. */
  integer: <D = undefined>(range: NumberRange<D> = {}): OptionCheck<number | NoInfer<D>> =>
    numberCheck('integer', range),
  /** A finite number in a range; `infinity: true` also allows `Infinity`. */
  number: <D = undefined>(range: NumberRange<D> = {}): OptionCheck<number | NoInfer<D>> =>
    numberCheck('number', range),
  /** `true` or `false`, nothing else (`'false'` and `1` are refused). */
  boolean:
    <D = undefined>(fallback?: D): OptionCheck<boolean | NoInfer<D>> =>
    (value, name) => {
      if (value === undefined) return fallback as D;
      if (typeof value !== 'boolean') throw new ConfigError(name, value, 'expected true or false');
      return value;
    },
  /** A string, non-empty unless `allowEmpty`. */
  string:
    <D = undefined>(fallback?: D, allowEmpty = false): OptionCheck<string | NoInfer<D>> =>
    (value, name) => {
      if (value === undefined) return fallback as D;
      if (typeof value !== 'string' || (!allowEmpty && value === '')) {
        throw new ConfigError(name, value, `expected a${allowEmpty ? '' : ' non-empty'} string`);
      }
      return value;
    },
  /**
   * A function.
   * @typeParam F - the function's type, e.g. `(progress: Progress) => void`.
   */
  fn:
    <F extends (...args: never[]) => unknown, D = undefined>(
      fallback?: D,
    ): OptionCheck<F | NoInfer<D>> =>
    (value, name) => {
      if (value === undefined) return fallback as D;
      if (typeof value !== 'function') throw new ConfigError(name, value, 'expected a function');
      return value as F;
    },
  /** One of a fixed list of values. */
  oneOf:
    <const T extends readonly (string | number | boolean)[], D = undefined>(
      choices: T,
      fallback?: D,
    ): OptionCheck<T[number] | NoInfer<D>> =>
    (value, name) => {
      if (value === undefined) return fallback as D;
      if (!choices.includes(value as T[number])) {
        throw new ConfigError(
          name,
          value,
          `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`,
        );
      }
      return value as T[number];
    },
  /** A pino-style logger: an object with the given methods (default all four levels). */
  logger:
    <L>(
      methods: readonly string[] = ['debug', 'info', 'warn', 'error'],
    ): OptionCheck<L | undefined> =>
    (value, name) => {
      if (value === undefined) return undefined;
      if (
        typeof value !== 'object' ||
        value === null ||
        methods.some((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
      ) {
        throw new ConfigError(name, value, `expected a logger with ${methods.join(', ')}()`);
      }
      return value as L;
    },
  /** An array whose items each pass `item` (named `name[i]` in errors). */
  array:
    <T, D = undefined>(item: OptionCheck<T>, fallback?: D): OptionCheck<T[] | NoInfer<D>> =>
    (value, name) => {
      if (value === undefined) return fallback as D;
      if (!Array.isArray(value)) throw new ConfigError(name, value, 'expected an array');
      return value.map((v, i) => item(v === undefined ? null : v, `${name}[${i}]`));
    },
  /** A nested options object read with its own spec (keys named `name.key` in errors). */
  object:
    <S extends Record<string, OptionCheck<unknown>>>(
      spec: S,
      scope: string,
    ): OptionCheck<ResolvedOptions<S>> =>
    (value, name) =>
      readOptions(scope, value, spec, `${name}.`),
  /** Any value, unchecked (free-form data such as `meta`). */
  any:
    <T = unknown>(): OptionCheck<T | undefined> =>
    (value) =>
      value as T | undefined,
  /**
   * A credential: `check` runs as usual, but a `ConfigError` it throws never quotes the value
   * (tokens, passwords, `proxyAuth`, URLs with userinfo).
   */
  secret:
    <T>(check: OptionCheck<T>): OptionCheck<T> =>
    (value, name) => {
      try {
        return check(value, name);
      } catch (error) {
        if (error instanceof ConfigError) {
          throw secretError(name, value, error.expected);
        }
        throw error;
      }
    },
};
