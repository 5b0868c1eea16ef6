// How long the Redis-shared limits wait out a Redis that went away (a restart, a Cluster failover)
// before `onRedisError` applies: per key, from the first failed ask to the next one that succeeds.
import { isRedisUnavailable } from '../redis/connection.js';
import type { OnRedisError } from './options.js';

/** How often a pump asks again while Redis is away: about as often as ioredis reconnects. */
export const OUTAGE_RETRY_MS = 100;

/** The outage clock of one limiter; see {@link createOutageWait}. */
export interface OutageWait {
  /** After a failed ask for `key`: `true` to sleep {@link OUTAGE_RETRY_MS} and ask again. */
  keepWaiting(key: string, error: unknown): boolean;
  /** After an ask for `key` that Redis answered: the outage (if any) is over. */
  ended(key: string): void;
}

/**
 * Decides, per key, whether queued calls keep waiting for Redis: only a Redis failure (not, say, a
 * missing peer dependency), only with `onRedisError: 'fail'` (with `'local'` the calls go on under
 * the local limit at once), and for at most `waitMs` since the outage began. Queued calls leave at
 * their own deadline meanwhile, so none waits past it.
 * @example
 * const outage = createOutageWait('fail', 5000);
 * if (outage.keepWaiting(key, error)) await sleep(OUTAGE_RETRY_MS);
 */
export function createOutageWait(
  onRedisError: OnRedisError,
  waitMs: number,
  now: () => number = () => performance.now(),
): OutageWait {
  const since = new Map<string, number>();
  return {
    keepWaiting(key, error) {
      if (onRedisError !== 'fail' || waitMs <= 0 || !isRedisUnavailable(error)) return false;
      const t = now();
      const start = since.get(key);
      if (start === undefined) since.set(key, t);
      else if (t - start >= waitMs) return false;
      return true;
    },
    ended(key) {
      since.delete(key);
    },
  };
}
