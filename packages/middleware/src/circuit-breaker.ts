// Stops calling a failing upstream for a while and fails fast with CircuitOpenError instead.
// Place it after retry() so each attempt counts and an open circuit ends the retries at once.
// The local circuit is circuit/local.ts, the fleet's (in Redis) circuit/fleet.ts.
import { createFleetCircuit } from './circuit/fleet.js';
import { classifyError, localCircuitBreaker } from './circuit/local.js';
import {
  type CircuitBreakerMiddleware,
  type CircuitBreakerOptions,
  resolveCircuitBreakerOptions,
} from './circuit/options.js';
import { createRedisConnection } from './redis/connection.js';

export {
  type CircuitBreakerMiddleware,
  type CircuitBreakerOptions,
  type CircuitState,
  type CircuitStateChange,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  type ResolvedCircuitBreakerOptions,
  resolveCircuitBreakerOptions,
} from './circuit/options.js';

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
 *
 * With `redis` and `id`, one circuit for the fleet: the window, the open state and the half-open
 * probe live in Redis (one atomic script on Redis's clock), so every process opens together and
 * one call in the whole fleet probes; each call costs one Redis round trip.
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
