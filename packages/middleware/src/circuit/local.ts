// The process's own circuit breaker (circuitBreaker() without `redis`, and the fallback of the fleet
// circuit with onRedisError 'local'): a rolling window of buckets per key, all in memory.
import {
  CircuitOpenError,
  type Context,
  defineMiddleware,
  type HttpResponse,
  isHttpStatusError,
  isTimeoutError,
  isTransportError,
  type Next,
} from '@extapi/core';
import type {
  CircuitBreakerMiddleware,
  CircuitState,
  ResolvedCircuitBreakerOptions,
} from './options.js';

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
 * The local circuit breaker of {@link ResolvedCircuitBreakerOptions} (`redis` is not read): see
 * `circuitBreaker()` for the states and what counts as a failure.
 * @example
 * const breaker = localCircuitBreaker(resolveCircuitBreakerOptions({ openMs: 1000 }));
 */
export function localCircuitBreaker(
  resolved: ResolvedCircuitBreakerOptions,
): CircuitBreakerMiddleware {
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
  // Not async: a closed circuit costs one `.then`, not an async frame.
  const middleware = function circuitBreaker(ctx: Context, next: Next): Promise<HttpResponse> {
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
      return Promise.reject(
        new CircuitOpenError(name, {
          method: ctx.request.method,
          url: ctx.request.url,
          attempt: ctx.attempt,
        }),
      );
    }
    if (circuit.state === 'half-open') circuit.probing = true;

    const generation = circuit.generation;
    const current = circuit;
    return next(ctx).then(
      (response) => {
        record(name, current, generation, response.status >= 500 ? 'failure' : 'success');
        return response;
      },
      (error: unknown) => {
        record(name, current, generation, classifyError(error, ctx));
        throw error;
      },
    );
  };

  return Object.defineProperties(defineMiddleware(middleware, { name: 'circuitBreaker' }), {
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

/**
 * How a call's error counts for its circuit: a failure of the upstream, or nothing (`ignore`).
 * @example
 * classifyError(error, ctx) === 'failure'; // a network error, a timeout, a status >= 500
 */
export function classifyError(error: unknown, ctx: Context): Outcome {
  // A caller's abort says nothing about the upstream, whatever error the transport made of it;
  // a deadline (a TimeoutError as the abort reason) does.
  if (ctx.scope.aborted && !isTimeoutError(ctx.scope.reason) && !isTimeoutError(error))
    return 'ignore';
  // Other errors (a bug in another middleware, a ConfigError) do not either.
  return isFailureError(error) ? 'failure' : 'ignore';
}
