// The start gate of rateLimit shared through Redis: one atomic script per key on Redis's own clock,
// the same rules as the local gate. Each process queues its own calls; only its head asks Redis.
import type { ExtapiError } from '@extapi/core';
import { type StartGate, slackMs, type WindowRule } from './local-window.js';
import type { OnRedisError } from './options.js';
import { isRedisUnavailable, type RedisConnection } from '../redis/connection.js';
import { redisKey } from '../redis/key.js';
import { defineScript } from '../redis/script.js';
import { createKeyQueues } from './key-queues.js';
import { OUTAGE_RETRY_MS, type OutageWait } from './outage.js';
import type { WaitQueue } from './wait-queue.js';

// KEYS[1]: a hash with `tat` (when the next start is due) and `pause` (no start before), in ms of
// Redis's clock; KEYS[2]: a list of the start times of the last window, newest first.
// ARGV: 'take' or 'pause', limit, windowMs, slackMs, pause ms. Returns 0 when a start is granted
// (and recorded), else how many ms to wait. Times are kept as '%.3f' strings: Lua would print a
// number with 14 digits, too few for epoch milliseconds with a fraction.
const WINDOW_SCRIPT = defineScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0')
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
if ARGV[1] == 'pause' then
  local untilMs = now + tonumber(ARGV[5])
  if untilMs > pause then
    redis.call('HSET', KEYS[1], 'pause', string.format('%.3f', untilMs))
    redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(untilMs, tat) - now + window))
  end
  return 0
end
if pause > now then return math.ceil(pause - now) end
local horizon = now - window
while true do
  local oldest = redis.call('LINDEX', KEYS[2], -1)
  if not oldest or tonumber(oldest) > horizon then break end
  redis.call('RPOP', KEYS[2])
end
local wait = tat - now
if redis.call('LLEN', KEYS[2]) >= limit then
  local blocking = tonumber(redis.call('LINDEX', KEYS[2], limit - 1)) - horizon
  if blocking > wait then wait = blocking end
end
if wait > 0 then return math.max(1, math.ceil(wait)) end
tat = math.max(tat, now - tonumber(ARGV[4])) + window / limit
redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', tat))
redis.call('LPUSH', KEYS[2], string.format('%.3f', now))
redis.call('LTRIM', KEYS[2], 0, limit - 1)
redis.call('PEXPIRE', KEYS[2], math.ceil(window) + 1)
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(pause, tat) - now + window) + 1)
return 0
`);

/** What {@link createRedisWindow} needs. */
export interface RedisWindowInit {
  rule: WindowRule;
  id: string;
  maxQueue: number;
  connection: RedisConnection;
  onRedisError: OnRedisError;
  /** The local gate that takes over when Redis fails and `onRedisError` is `'local'`. */
  fallback: StartGate;
  /** Whether queued calls wait out a Redis that went away before `onRedisError` applies. */
  outage: OutageWait;
}

/**
 * Creates a start gate shared by every process that uses the same `id` on the same Redis.
 * @example
 * const gate = createRedisWindow({ rule, id: 'partner', maxQueue: Infinity, connection,
 *   onRedisError: 'fail', fallback: createLocalWindow(rule, Infinity), outage });
 */
export function createRedisWindow(init: RedisWindowInit): StartGate {
  const { rule, id, maxQueue, connection, onRedisError, fallback, outage } = init;
  const args = [rule.limit, rule.windowMs, slackMs(rule)];

  function keys(key: string): string[] {
    const base = redisKey('rate', id, key);
    return [base, `${base}:log`];
  }

  function failAll(queue: WaitQueue<void>, key: string, error: unknown): void {
    const local = onRedisError === 'local' && isRedisUnavailable(error);
    for (let waiter = queue.shift(); waiter; waiter = queue.shift()) {
      if (local) fallback.acquire(key, waiter.signal).then(waiter.grant, waiter.fail);
      else waiter.fail(error as ExtapiError);
    }
  }

  const queues = createKeyQueues<void>(async (key, queue, sleep) => {
    let wait: number;
    try {
      wait = Number(
        await connection.run((client) => WINDOW_SCRIPT(client, keys(key), ['take', ...args, 0])),
      );
    } catch (error) {
      if (outage.keepWaiting(key, error)) {
        await sleep(OUTAGE_RETRY_MS);
        return true;
      }
      failAll(queue, key, error);
      return false;
    }
    outage.ended(key);
    // The head may have left while Redis answered: the start then goes to the next in line.
    if (wait <= 0) queue.shift()?.grant();
    else await sleep(wait);
    return true;
  }, maxQueue);

  return {
    acquire(key, signal) {
      return queues.wait(key, signal);
    },
    pause(key, ms) {
      if (!(ms > 0)) return;
      // This process holds at once; Redis tells the others (and this one, on its next ask).
      fallback.pause(key, ms);
      connection
        .run((client) => WINDOW_SCRIPT(client, keys(key), ['pause', ...args, Math.ceil(ms)]))
        .catch(() => {});
    },
    get keys() {
      return queues.keys;
    },
    close() {
      queues.wakeAll();
      fallback.close();
    },
  };
}
