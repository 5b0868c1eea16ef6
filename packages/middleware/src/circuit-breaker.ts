// Stops calling a failing upstream for a while and fails fast with CircuitOpenError instead.
// Place it after retry() so each attempt counts and an open circuit ends the retries at once.
import {
  CircuitOpenError,
  ConfigError,
  type Context,
  type HttpResponse,
  isHttpStatusError,
  isTimeoutError,
  isTransportError,
  type Middleware,
  type Next,
  type OptionSpec,
  option,
  readOptions,
} from '@extapi/core';
import { createFleetCircuit } from './circuit/fleet.js';
import { createRedisConnection, type RedisClientLike } from './redis/connection.js';
import { redisOption } from './redis/options.js';

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

/** Options of {@link circuitBreaker}. Every field is optional; an explicit `undefined` means the default. */
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

/** The defaults of {@link circuitBreaker}. */
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

/** The middleware {@link circuitBreaker} returns, with a read-only view of its circuits (for health checks). */
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

// The window is this many buckets, so memory per circuit is fixed however many calls it sees.
const BUCKETS = 10;

interface Circuit {
  state: CircuitState;
  /** Bumped on every transition, so a call that started in an earlier state does not count. */
  generation: number;
  openUntil: number;
  probing: boolean;
  lastUsed: number;
  /** Ring of buckets: the bucket number (time / width) each slot holds, and its counts. */
  slot: number[];
  calls: number[];
  failures: number[];
}

type Outcome = 'success' | 'failure' | 'ignore';

/**
 * A circuit breaker per upstream (per origin unless `key` says otherwise).
 *
 * - Closed: calls pass and their outcomes fill a rolling window of `windowMs` (10 buckets). Once the
 *   window holds at least `minimumCalls` calls and at least `failureRatio` of them failed, it opens.
 *   Failures are network errors (`TransportError`), `TimeoutError`, responses with status >= 500,
 *   an `HttpStatusError` with status >= 500 (also as the last attempt's error that `retry()` rethrows).
 *   A caller's abort counts as nothing; so does any other error.
 * - Open: for `openMs` every call rejects at once with `CircuitOpenError` and sends nothing.
 * - Half-open: the next call is the one probe (concurrent calls get `CircuitOpenError`); success
 *   closes the circuit with an empty window, failure reopens it for `openMs`.
 *
 * State: the circuits are shared by every call through this middleware instance. A circuit is
 * forgotten once it has been idle for `windowMs` (and `openMs` when open), so unbounded keys
 * do not leak; a forgotten circuit starts closed. Position: after `retry()` each attempt counts
 * and `CircuitOpenError` (not retryable) ends the call; before it, a call counts once.
 * @example
 * const client = createClient([retry(), circuitBreaker({ minimumCalls: 10, openMs: 30_000 }), undiciTransport()]);
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreakerMiddleware {
  const resolved = resolveCircuitBreakerOptions(options);
  const local = localCircuitBreaker(resolved);
  if (resolved.redis === undefined) return local;
  const connection = createRedisConnection(resolved.redis, resolved.redisTimeoutMs);
  const fleet = createFleetCircuit({
    ...resolved,
    id: resolved.id!,
    connection,
    local,
    classify: classifyError,
  });
  return Object.defineProperties(fleet.middleware, {
    state: { value: fleet.state },
    size: { get: () => fleet.size },
    close: { value: () => connection.close() },
  }) as CircuitBreakerMiddleware;
}

function localCircuitBreaker(resolved: ResolvedCircuitBreakerOptions): CircuitBreakerMiddleware {
  const { failureRatio, minimumCalls, windowMs, openMs, key, now, onStateChange } = resolved;
  const width = windowMs / BUCKETS;
  const circuits = new Map<string, Circuit>();
  let lastSweep = now();

  function transition(name: string, circuit: Circuit, to: CircuitState, at: number): void {
    const from = circuit.state;
    circuit.state = to;
    circuit.generation++;
    circuit.probing = false;
    if (to === 'open') circuit.openUntil = at + openMs;
    if (to === 'closed') resetWindow(circuit);
    if (onStateChange) {
      try {
        onStateChange({ key: name, from, to });
      } catch {
        // A hook must not change the outcome of the call that caused the transition.
      }
    }
  }

  // Drops idle circuits at most once per window, so the cost is amortised over many calls.
  function sweep(at: number): void {
    if (at - lastSweep < windowMs) return;
    lastSweep = at;
    for (const [name, circuit] of circuits) {
      const idleSince =
        circuit.state === 'open' ? Math.max(circuit.lastUsed, circuit.openUntil) : circuit.lastUsed;
      if (!circuit.probing && at - idleSince >= windowMs) circuits.delete(name);
    }
  }

  function record(name: string, circuit: Circuit, generation: number, outcome: Outcome): void {
    if (circuit.generation !== generation || outcome === 'ignore') {
      if (circuit.generation === generation && circuit.state === 'half-open')
        circuit.probing = false;
      return;
    }
    const at = now();
    if (circuit.state === 'half-open') {
      transition(name, circuit, outcome === 'success' ? 'closed' : 'open', at);
      return;
    }
    const bucket = Math.floor(at / width);
    const index = ((bucket % BUCKETS) + BUCKETS) % BUCKETS;
    if (circuit.slot[index] !== bucket) {
      circuit.slot[index] = bucket;
      circuit.calls[index] = 0;
      circuit.failures[index] = 0;
    }
    circuit.calls[index]!++;
    if (outcome === 'success') return;
    circuit.failures[index]!++;
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      // Only buckets inside the window count; older slots are stale leftovers of the ring.
      if (bucket - circuit.slot[i]! < BUCKETS) {
        calls += circuit.calls[i]!;
        failures += circuit.failures[i]!;
      }
    }
    if (calls >= minimumCalls && failures / calls >= failureRatio)
      transition(name, circuit, 'open', at);
  }

  // A function expression: a nested declaration of the factory's own name would be renamed by bundlers.
  const middleware = async function circuitBreaker(
    ctx: Context,
    next: Next,
  ): Promise<HttpResponse> {
    const at = now();
    sweep(at);
    const name = String(key(ctx));
    let circuit = circuits.get(name);
    if (circuit === undefined) {
      circuit = {
        state: 'closed',
        generation: 0,
        openUntil: 0,
        probing: false,
        lastUsed: at,
        slot: new Array(BUCKETS),
        calls: new Array(BUCKETS),
        failures: new Array(BUCKETS),
      };
      resetWindow(circuit);
      circuits.set(name, circuit);
    }
    circuit.lastUsed = at;
    if (circuit.state === 'open' && at >= circuit.openUntil)
      transition(name, circuit, 'half-open', at);
    if (circuit.state === 'open' || (circuit.state === 'half-open' && circuit.probing)) {
      throw new CircuitOpenError(name, {
        method: ctx.request.method,
        url: ctx.request.url,
        attempt: ctx.attempt,
      });
    }
    if (circuit.state === 'half-open') circuit.probing = true;

    const generation = circuit.generation;
    let response: HttpResponse;
    try {
      response = await next(ctx);
    } catch (error) {
      record(name, circuit, generation, classifyError(error, ctx));
      throw error;
    }
    record(name, circuit, generation, response.status >= 500 ? 'failure' : 'success');
    return response;
  };

  return Object.defineProperties(middleware, {
    state: { value: (name: string): CircuitState => circuits.get(name)?.state ?? 'closed' },
    size: { get: () => circuits.size },
  }) as CircuitBreakerMiddleware;
}

// -Infinity marks a slot as outside every window, whatever the clock's origin.
function resetWindow(circuit: Circuit): void {
  circuit.slot.fill(Number.NEGATIVE_INFINITY);
  circuit.calls.fill(0);
  circuit.failures.fill(0);
}

function isFailureError(error: unknown): boolean {
  if (isTransportError(error) || isTimeoutError(error)) return true;
  if (isHttpStatusError(error)) return error.status >= 500;
  return false;
}

function classifyError(error: unknown, ctx: Context): Outcome {
  // A caller's abort says nothing about the upstream, whatever error the transport made of it;
  // a deadline (a TimeoutError as the abort reason) does.
  if (ctx.scope.aborted && !isTimeoutError(ctx.scope.reason) && !isTimeoutError(error))
    return 'ignore';
  // Other errors (a bug in another middleware, a ConfigError) do not either.
  return isFailureError(error) ? 'failure' : 'ignore';
}
