// The fleet circuit of circuitBreaker({ redis, id }): the failure window and the open state of each
// circuit live in Redis, so every process opens together and one probe tests the upstream.
import {
  CircuitOpenError,
  type Context,
  defineMiddleware,
  type HttpResponse,
  type Middleware,
  type Next,
} from '@extapi/core';
import { isRedisUnavailable, type RedisConnection } from '../redis/connection.js';
import { redisKey } from '../redis/key.js';
import { defineScript } from '../redis/script.js';

// KEYS[1]: a hash per circuit: `state` (closed, open, half), `gen` (bumped on every transition, so
// an outcome of a call admitted in an earlier state does not count), `until` (open until, ms of
// Redis's clock), `probe` (the probe's lease), and a ring of 10 buckets `s<i>` (bucket number),
// `c<i>` (calls), `f<i>` (failures). ARGV: op ('admit' | 'record'), windowMs, openMs,
// minimumCalls, failureRatio, outcome ('success' | 'failure' | 'ignore'), gen.
// admit returns {verdict, gen}: 0 pass, 1 pass as the one probe, 2 refuse. record returns the state
// it moved the circuit to ('open', 'closed') or ''.
const CIRCUIT_SCRIPT = defineScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local window = tonumber(ARGV[2])
local openMs = tonumber(ARGV[3])
local ttl = math.ceil(window + openMs * 2)
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local function open()
  redis.call('HSET', KEYS[1], 'state', 'open', 'gen', gen + 1,
    'until', string.format('%.3f', now + openMs))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 'open'
end
if ARGV[1] == 'admit' then
  if state == 'closed' then return {0, gen} end
  local lease = tonumber(redis.call('HGET', KEYS[1], state == 'open' and 'until' or 'probe') or '0')
  if now < lease then return {2, gen} end
  -- Open long enough, or the probe's lease ran out (its process died): this call is the probe.
  if state == 'open' then gen = gen + 1 end
  redis.call('HSET', KEYS[1], 'state', 'half', 'gen', gen,
    'probe', string.format('%.3f', now + openMs))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, gen}
end
if tonumber(ARGV[7]) ~= gen or state == 'open' then return '' end
if ARGV[6] == 'ignore' then
  -- A probe that told nothing (the caller aborted): the next call may probe at once.
  if state == 'half' then redis.call('HSET', KEYS[1], 'probe', 0) end
  return ''
end
if state == 'half' then
  if ARGV[6] ~= 'success' then return open() end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'gen', gen + 1)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 'closed'
end
local width = window / 10
local bucket = math.floor(now / width)
local i = bucket % 10
if tonumber(redis.call('HGET', KEYS[1], 's' .. i) or '-1') ~= bucket then
  redis.call('HSET', KEYS[1], 's' .. i, bucket, 'c' .. i, 0, 'f' .. i, 0)
end
redis.call('HINCRBY', KEYS[1], 'c' .. i, 1)
redis.call('PEXPIRE', KEYS[1], ttl)
if ARGV[6] == 'success' then return '' end
redis.call('HINCRBY', KEYS[1], 'f' .. i, 1)
local calls, failures = 0, 0
for j = 0, 9 do
  local s = tonumber(redis.call('HGET', KEYS[1], 's' .. j) or '-1')
  if s >= 0 and bucket - s < 10 then
    calls = calls + tonumber(redis.call('HGET', KEYS[1], 'c' .. j) or '0')
    failures = failures + tonumber(redis.call('HGET', KEYS[1], 'f' .. j) or '0')
  end
end
if calls >= tonumber(ARGV[4]) and failures / calls >= tonumber(ARGV[5]) then return open() end
return ''
`);

/** What {@link createFleetCircuit} needs. */
export interface FleetCircuitInit {
  id: string;
  connection: RedisConnection;
  onRedisError: 'fail' | 'local';
  /** The process's own circuit breaker, used while Redis is away with `onRedisError: 'local'`. */
  local: Middleware;
  key: (ctx: Context) => string;
  windowMs: number;
  openMs: number;
  minimumCalls: number;
  failureRatio: number;
  /** How a call's error counts: the local breaker's own rules. */
  classify: (error: unknown, ctx: Context) => 'success' | 'failure' | 'ignore';
  onStateChange?: (change: {
    key: string;
    from: 'closed' | 'open' | 'half-open';
    to: 'closed' | 'open' | 'half-open';
  }) => void;
}

/** The fleet circuit middleware and the states this process last saw. */
export interface FleetCircuit {
  middleware: Middleware;
  /** The state this process last saw for `key` (`closed` when it saw none). */
  state(key: string): 'closed' | 'open' | 'half-open';
  readonly size: number;
}

/**
 * Creates the fleet circuit: every call asks Redis once whether it may pass (one round trip, one
 * atomic script on Redis's clock) and reports its outcome without waiting for the answer.
 * @example
 * const fleet = createFleetCircuit({ id: 'partner', connection, onRedisError: 'fail', local, key,
 *   windowMs: 10_000, openMs: 5_000, minimumCalls: 20, failureRatio: 0.5, classify });
 */
export function createFleetCircuit(init: FleetCircuitInit): FleetCircuit {
  const { id, connection, onRedisError, local, key, classify, onStateChange } = init;
  const args = [init.windowMs, init.openMs, init.minimumCalls, init.failureRatio];
  // What this process saw last, per key: for state() and for the transitions it reports. Only
  // circuits that are not closed are kept, so unbounded keys do not leak.
  const seen = new Map<string, 'open' | 'half-open'>();

  function notify(name: string, to: 'closed' | 'open' | 'half-open'): void {
    const from = seen.get(name) ?? 'closed';
    if (to === 'closed') seen.delete(name);
    else seen.set(name, to);
    if (from === to || !onStateChange) return;
    try {
      onStateChange({ key: name, from, to });
    } catch {
      // A hook must not change the outcome of the call.
    }
  }

  function record(name: string, gen: number, outcome: 'success' | 'failure' | 'ignore'): void {
    const keys = [redisKey('circuit', id, name)];
    connection
      .run((client) => CIRCUIT_SCRIPT(client, keys, ['record', ...args, outcome, gen]))
      .then((moved) => {
        if (moved === 'open' || moved === 'closed') notify(name, moved);
      })
      .catch(() => {
        // Redis went away after the call: its outcome is lost, the circuit is not harmed.
      });
  }

  const middleware = async function circuitBreaker(
    ctx: Context,
    next: Next,
  ): Promise<HttpResponse> {
    const name = String(key(ctx));
    let verdict: number;
    let gen: number;
    try {
      [verdict, gen] = (await connection.run((client) =>
        CIRCUIT_SCRIPT(client, [redisKey('circuit', id, name)], ['admit', ...args, '', 0]),
      )) as [number, number];
    } catch (error) {
      if (onRedisError === 'local' && isRedisUnavailable(error)) return local(ctx, next);
      throw error;
    }
    if (verdict === 2) {
      if (!seen.has(name)) notify(name, 'open');
      throw new CircuitOpenError(name, {
        method: ctx.request.method,
        url: ctx.request.url,
        attempt: ctx.attempt,
      });
    }
    if (verdict === 1) notify(name, 'half-open');
    else if (seen.has(name)) notify(name, 'closed');
    let response: HttpResponse;
    try {
      response = await next(ctx);
    } catch (error) {
      const outcome = classify(error, ctx);
      if (outcome !== 'ignore') record(name, gen, outcome);
      // An ignored probe frees the probe at once rather than after its lease.
      else if (verdict === 1) record(name, gen, 'ignore');
      throw error;
    }
    record(name, gen, response.status >= 500 ? 'failure' : 'success');
    return response;
  };

  return {
    middleware: defineMiddleware(middleware, { name: 'circuitBreaker' }),
    state: (name) => seen.get(name) ?? 'closed',
    get size() {
      return seen.size;
    },
  };
}
