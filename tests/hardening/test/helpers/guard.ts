// Per-test guards of the hardening suite: nothing leaked (sockets, servers, timers), no unhandled
// rejection, and every limiter back to zero in flight, checked after each test's own cleanup ran.
import {
  type Client,
  type ClientOptions,
  createClient,
  createContext,
  createResponse,
  type Middleware,
  type Transport,
} from '@extapi/core';
import { concurrencyLimit, type LimitMiddleware } from '@extapi/middleware';

/** Resource kinds that must be back to their count before the test once it has cleaned up. */
const TRACKED = ['TCPSocketWrap', 'TCPServerWrap', 'TLSWrap', 'PipeWrap', 'Timeout', 'UDPWrap'];
/** How long closed sockets and cleared timers may take to leave the loop. */
const SETTLE_MS = 3_000;
/** Slots of the limiter every guarded client starts with. */
export const GUARD_SLOTS = 8;

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) {
    if (TRACKED.includes(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

function excess(before: Map<string, number>): string[] {
  const now = countResources();
  const out: string[] = [];
  for (const [name, count] of now) {
    const base = before.get(name) ?? 0;
    if (count > base) out.push(`${name}: ${base} → ${count}`);
  }
  return out;
}

/** Waits until no tracked resource is above its count in `before`; returns what is still above. */
export async function settle(before: Map<string, number>, ms = SETTLE_MS): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = excess(before);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = excess(before);
  }
  return left;
}

/**
 * Proves `limiter` has every one of its `slots` free: that many calls must all start at once.
 * A slot that some earlier call never gave back leaves one of them waiting.
 */
export async function assertLimiterIdle(limiter: Middleware, slots: number): Promise<void> {
  const controller = new AbortController();
  const ctx = createContext({
    request: {
      method: 'GET',
      url: new URL('http://limiter.probe/'),
      headers: new Headers(),
      body: undefined,
    },
    signal: controller.signal,
  });
  let started = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const response = createResponse({
    status: 200,
    headers: new Headers(),
    url: 'http://limiter.probe/',
    method: 'GET',
    body: null,
  });
  const calls = Array.from({ length: slots }, () =>
    limiter(ctx, async () => {
      started++;
      await gate;
      return response;
    }),
  );
  const deadline = Date.now() + 500;
  while (started < slots && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const startedAtOnce = started;
  open();
  controller.abort(new Error('probe over'));
  await Promise.allSettled(calls);
  if (startedAtOnce !== slots) {
    throw new Error(`limiter leaked ${slots - startedAtOnce} of ${slots} slot(s)`);
  }
}

/** What a test gets from {@link useGuard}; fresh for every test. */
export interface Guard {
  /** Runs `close` after the test (last registered first), before the leak checks. */
  defer(close: () => unknown): void;
  /** The concurrencyLimit every {@link Guard.client} starts with; checked idle after the test. */
  readonly limiter: LimitMiddleware;
  /** createClient with the guard's limiter outermost; the client is closed after the test. */
  client(stack: ReadonlyArray<Middleware | Transport>, options?: ClientOptions): Client;
  /** Registers another limiter to be checked idle after the test, with how many slots it has. */
  watchLimiter(limiter: Middleware, slots: number): void;
}

/**
 * Installs the per-test guards in the calling test file and returns the current test's {@link Guard}.
 * @example
 * const guard = useGuard();
 * it('…', async () => { const client = guard.client([undiciTransport()]); … });
 */
export function useGuard(): Guard {
  let cleanups: (() => unknown)[] = [];
  let limiters: [Middleware, number][] = [];
  let limiter: LimitMiddleware = concurrencyLimit({ max: GUARD_SLOTS });
  let before = new Map<string, number>();
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => {
    rejections.push(reason);
  };

  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
  });
  beforeEach(() => {
    cleanups = [];
    limiter = concurrencyLimit({ max: GUARD_SLOTS });
    limiters = [[limiter, GUARD_SLOTS]];
    rejections.length = 0;
    before = countResources();
  });
  afterEach(async () => {
    const errors: string[] = [];
    for (const close of cleanups.reverse()) {
      try {
        await close();
      } catch (error) {
        errors.push(`cleanup failed: ${String(error)}`);
      }
    }
    for (const [each, slots] of limiters) {
      try {
        await assertLimiterIdle(each, slots);
      } catch (error) {
        errors.push(String(error));
      }
    }
    // One more turn so that a rejection nobody handled during the test is reported.
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const reason of rejections) errors.push(`unhandled rejection: ${String(reason)}`);
    const left = await settle(before);
    if (left.length > 0) errors.push(`left behind: ${left.join(', ')}`);
    if (errors.length > 0) throw new Error(errors.join('\n'));
  });

  return {
    defer: (close) => {
      cleanups.push(close);
    },
    get limiter() {
      return limiter;
    },
    client: (stack, options) => {
      const client = createClient([limiter, ...stack], options);
      cleanups.push(() => client.close());
      return client;
    },
    watchLimiter: (each, slots) => {
      limiters.push([each, slots]);
    },
  };
}
