// circuitBreaker()'s options: what they mean, their defaults, and their checks (read once when
// circuitBreaker() is called, never per call).
import {
  ConfigError,
  type Context,
  type Middleware,
  type OptionSpec,
  option,
  readOptions,
} from '@extapi/core';
import type { RedisClientLike } from '../redis/connection.js';
import { redisOption } from '../redis/options.js';

/** `closed`: calls pass; `open`: calls fail fast; `half-open`: one probe call decides. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What {@link CircuitBreakerOptions.onStateChange} receives. */
export interface CircuitStateChange {
  /** The key of the circuit that changed. */
  key: string;
  /** The state before the change. */
  from: CircuitState;
  /** The state after the change. */
  to: CircuitState;
}

/** Options of `circuitBreaker()`. Every field is optional; an explicit `undefined` means the default. */
export interface CircuitBreakerOptions {
  /** The share of failed calls in the window, in (0, 1], that opens the circuit. @default 0.5 */
  failureRatio?: number;
  /** How many calls the window must hold before the ratio is judged. @default 20 */
  minimumCalls?: number;
  /** The rolling window over which calls are counted, in ms. @default 10_000 */
  windowMs?: number;
  /** How long an open circuit fails fast before it lets a probe through, in ms. @default 5_000 */
  openMs?: number;
  /** Which circuit a call belongs to. @default the origin the call was made for (`ctx.call.origin`) */
  key?: (ctx: Context) => string;
  /** Called on every transition; errors it throws are ignored. @default none */
  onStateChange?: (change: CircuitStateChange) => void;
  /** The clock, in ms (inject one in tests). @default performance.now */
  now?: () => number;
  /**
   * One circuit for the fleet: the failure window and the open state live in this Redis (an
   * ioredis client or Cluster, left open, or a `redis://` URL), so when one process sees the
   * upstream fail, every process using the same `id` stops calling it, and one call in the whole
   * fleet probes it in half-open. Each call then costs one Redis round trip. `now` is not used:
   * Redis's clock is.
   * @default none: the circuit is this process's own
   */
  redis?: string | RedisClientLike;
  /** The name of the fleet's circuit; required with `redis`. */
  id?: string;
  /**
   * When Redis fails: `'fail'` rejects the call with an `ExtapiError` of code
   * `ERR_REDIS_UNAVAILABLE`; `'local'` uses this process's own circuit meanwhile.
   * @default 'fail'
   */
  onRedisError?: 'fail' | 'local';
  /** How long one Redis command may take before it counts as a Redis failure, in ms. @default 2000 */
  redisTimeoutMs?: number;
}

/** The defaults of `circuitBreaker()`. */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS = Object.freeze({
  /** @see CircuitBreakerOptions.failureRatio */
  failureRatio: 0.5,
  /** @see CircuitBreakerOptions.minimumCalls */
  minimumCalls: 20,
  /** @see CircuitBreakerOptions.windowMs */
  windowMs: 10_000,
  /** @see CircuitBreakerOptions.openMs */
  openMs: 5_000,
  /** @see CircuitBreakerOptions.key */
  key: (ctx: Context): string => ctx.call.origin,
  /** @see CircuitBreakerOptions.onStateChange */
  onStateChange: undefined as ((change: CircuitStateChange) => void) | undefined,
  /** @see CircuitBreakerOptions.now */
  now: (): number => performance.now(),
  /** @see CircuitBreakerOptions.redis */
  redis: undefined as string | RedisClientLike | undefined,
  /** @see CircuitBreakerOptions.id */
  id: undefined as string | undefined,
  /** @see CircuitBreakerOptions.onRedisError */
  onRedisError: 'fail' as 'fail' | 'local',
  /** @see CircuitBreakerOptions.redisTimeoutMs */
  redisTimeoutMs: 2000,
});

/** The middleware `circuitBreaker()` returns, with a read-only view of its circuits (for health checks). */
export interface CircuitBreakerMiddleware extends Middleware {
  /** The state of the circuit for `key` (`closed` when none is tracked); `open` turns `half-open` on the next call. */
  state(key: string): CircuitState;
  /** How many circuits are tracked now; idle ones are dropped. */
  readonly size: number;
  /** With `redis`: closes the Redis client the breaker created from a URL (a client passed in is left open). */
  close?(): Promise<void>;
}

/** {@link CircuitBreakerOptions} after validation. */
export type ResolvedCircuitBreakerOptions = Required<
  Omit<CircuitBreakerOptions, 'onStateChange' | 'redis' | 'id'>
> &
  Pick<CircuitBreakerOptions, 'onStateChange' | 'redis' | 'id'>;

const d = DEFAULT_CIRCUIT_BREAKER_OPTIONS;

const SPEC = {
  failureRatio: (value, name) => {
    const ratio = option.number({ max: 1, default: d.failureRatio })(value, name);
    // A ratio of 0 would open on the first call whatever it did.
    if (ratio === 0) throw new ConfigError(name, ratio, 'expected a number in (0, 1]');
    return ratio;
  },
  minimumCalls: option.integer({ min: 1, default: d.minimumCalls }),
  windowMs: option.ms({ min: 1, default: d.windowMs }),
  openMs: option.ms({ min: 1, default: d.openMs }),
  key: option.fn<(ctx: Context) => string, (ctx: Context) => string>(d.key),
  onStateChange: option.fn<(change: CircuitStateChange) => void>(),
  now: option.fn<() => number, () => number>(d.now),
  redis: redisOption,
  id: option.string<undefined>(),
  onRedisError: option.oneOf(['fail', 'local'], d.onRedisError),
  redisTimeoutMs: option.ms({ min: 1, default: d.redisTimeoutMs }),
} satisfies OptionSpec<CircuitBreakerOptions>;

/**
 * Validates {@link CircuitBreakerOptions} (own properties only; an unknown one is refused with the
 * nearest known name) and fills in the defaults.
 * @throws ConfigError naming the option and the value
 * @example
 * resolveCircuitBreakerOptions({ openMs: 1000 }).minimumCalls; // 20
 */
export function resolveCircuitBreakerOptions(
  options: CircuitBreakerOptions = {},
): ResolvedCircuitBreakerOptions {
  const resolved = readOptions('circuitBreaker()', options, SPEC);
  if (resolved.redis !== undefined && resolved.id === undefined) {
    throw new ConfigError(
      'id',
      undefined,
      'circuitBreaker() with redis needs an id naming the circuit',
    );
  }
  return resolved;
}
