// The in-process start gate of rateLimit: at most `limit` starts in any sliding window of `windowMs`
// per key, starts spread evenly over the window, and pauses a server asked for.
import { MAX_TIMER_MS, QueueFullError, type AbortLike } from '@extapi/core';
import { createWaitQueue, type WaitQueue } from './wait-queue.js';

// Not bottleneck, although it is the usual choice: it cannot take a job out of its queue when the
// caller aborts (a cancelled job still runs when its turn comes and uses up its minTime slot), its
// minTime spacing loses every timer's lateness (a few % below the rate), and it has no way to hold
// a key until a given instant for a server's Retry-After. The gate below is small and exact.

/** Starts per key: `acquire` resolves when the call may start. */
export interface StartGate {
  acquire(key: string, signal: AbortLike): Promise<void>;
  /** Takes a start at once when one is free and nobody waits (no promise); `false` otherwise. */
  tryAcquire?(key: string): boolean;
  /** Holds every start of `key` for `ms` (longer pauses win). */
  pause(key: string, ms: number): void;
  /** How many keys have state right now. */
  readonly keys: number;
  close(): void;
}

/** The pacing rule, shared with the Redis script so both modes behave alike. */
export interface WindowRule {
  limit: number;
  windowMs: number;
}

/**
 * How much lateness of a timer the next start may make up: half an interval, so that two starts are
 * never granted together at ordinary rates, but at least 4 ms, since timers are that coarse and at
 * high rates (intervals of a few ms and less) several starts must leave per timer tick.
 */
export function slackMs(rule: WindowRule): number {
  return Math.max(rule.windowMs / rule.limit / 2, 4);
}

interface KeyWindow {
  queue: WaitQueue<void>;
  /** Start times inside the last window, oldest first, from `head` on. */
  starts: number[];
  head: number;
  /** The earliest time the next start is due (theoretical arrival time, as in GCRA). */
  tat: number;
  pausedUntil: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Creates a local start gate.
 *
 * Two rules together: a sliding log (the starts of the last `windowMs`; a start must find fewer than
 * `limit` there), which is the exact bound, and an emission interval `windowMs / limit` with a
 * little slack, which spreads the starts instead of letting `limit` of them leave at once — so that
 * network jitter cannot pack more than one extra start into a window at the server.
 * @example
 * const gate = createLocalWindow({ limit: 10, windowMs: 1000 }, Infinity);
 * await gate.acquire('', ctx.scope);
 */
export function createLocalWindow(
  rule: WindowRule,
  maxQueue: number,
  now: () => number = () => performance.now(),
): StartGate {
  const { limit, windowMs } = rule;
  const interval = windowMs / limit;
  const slack = slackMs(rule);
  const byKey = new Map<string, KeyWindow>();
  let sweeper: NodeJS.Timeout | undefined;

  function state(key: string): KeyWindow {
    let window = byKey.get(key);
    if (window === undefined) {
      const created: KeyWindow = {
        queue: createWaitQueue<void>(() => {
          // The last waiter left: no timer should keep the process alive for a long pause.
          if (created.queue.size === 0) {
            clearTimeout(created.timer);
            created.timer = undefined;
          }
        }),
        starts: [],
        head: 0,
        tat: Number.NEGATIVE_INFINITY,
        pausedUntil: 0,
        timer: undefined,
      };
      window = created;
      byKey.set(key, window);
      // Idle keys are dropped by a sweep rather than a timer per call, to keep the fast path cheap.
      if (sweeper === undefined) {
        sweeper = setInterval(sweep, Math.min(Math.max(windowMs, 1000), 60_000));
        // A browser's or a worker's interval is a number, without unref(): nothing to keep alive there.
        sweeper.unref?.();
      }
    }
    return window;
  }

  function prune(window: KeyWindow, t: number): void {
    const horizon = t - windowMs;
    const { starts } = window;
    while (window.head < starts.length && starts[window.head]! <= horizon) window.head++;
    if (window.head > 1024 && window.head * 2 > starts.length) {
      // Not splice(): it would return the dropped starts as a new array, unread.
      starts.copyWithin(0, window.head);
      starts.length -= window.head;
      window.head = 0;
    }
  }

  /** How long until the next start of this key may happen (0: now). */
  function delay(window: KeyWindow, t: number): number {
    prune(window, t);
    let wait = Math.max(window.tat - t, window.pausedUntil - t);
    const count = window.starts.length - window.head;
    if (count >= limit) {
      // The limit-th newest start must leave the window first.
      wait = Math.max(wait, window.starts[window.starts.length - limit]! + windowMs - t);
    }
    return wait;
  }

  function record(window: KeyWindow, t: number): void {
    window.tat = Math.max(window.tat, t - slack) + interval;
    window.starts.push(t);
    // Only the newest `limit` starts can ever matter.
    if (window.starts.length - window.head > limit) window.head++;
  }

  function pump(window: KeyWindow): void {
    window.timer = undefined;
    while (window.queue.size > 0) {
      const t = now();
      const wait = delay(window, t);
      if (wait > 0) {
        // A longer wait (a month's window, a long pause) is slept in steps: Node fires a longer
        // timer at once, which would spin.
        window.timer = setTimeout(pump, Math.min(Math.ceil(wait), MAX_TIMER_MS), window);
        return;
      }
      record(window, t);
      window.queue.shift()!.grant();
    }
  }

  function sweep(): void {
    const t = now();
    for (const [key, window] of byKey) {
      if (window.queue.size === 0 && window.timer === undefined && delay(window, t) <= 0) {
        if (window.starts.length - window.head === 0) byKey.delete(key);
      }
    }
    if (byKey.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  function tryAcquire(key: string): boolean {
    const window = state(key);
    if (window.queue.size !== 0) return false;
    const t = now();
    if (delay(window, t) > 0) return false;
    record(window, t);
    return true;
  }

  return {
    tryAcquire,
    acquire(key, signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (tryAcquire(key)) return Promise.resolve();
      const window = state(key);
      if (window.queue.size >= maxQueue) return Promise.reject(new QueueFullError(maxQueue));
      const turn = window.queue.wait(signal);
      if (window.timer === undefined) pump(window);
      return turn;
    },
    pause(key, ms) {
      if (!(ms > 0)) return;
      const window = state(key);
      window.pausedUntil = Math.max(window.pausedUntil, now() + ms);
    },
    get keys() {
      return byKey.size;
    },
    close() {
      for (const window of byKey.values()) clearTimeout(window.timer);
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}
