// lintStack(): finds orderings of a stack that are almost always mistakes, by middleware name.
// createClient calls it once per client and warns (logger or process warning); it never throws.
import type { Logger } from './logger.js';
import type { Middleware } from './types.js';

/** The `code` of every stack-order warning, for `process.on('warning')` filters and log queries. */
export const STACK_ORDER_WARNING_CODE = 'EXTAPI_STACK_ORDER';

/** One likely mistake in the order of a stack, as {@link lintStack} reports it. */
export interface StackLintWarning {
  /**
   * A stable name of the rule: `expect-status-outside-retry`, `bearer-auth-outside-retry`,
   * `retry-twice`, `rate-limit-outside-retry`, `rate-limit-outside-concurrency-limit`.
   */
  rule:
    | 'expect-status-outside-retry'
    | 'bearer-auth-outside-retry'
    | 'retry-twice'
    | 'rate-limit-outside-retry'
    | 'rate-limit-outside-concurrency-limit';
  /** Indexes in the stack of the middleware involved, outside-in. */
  positions: number[];
  /** What is wrong and how to fix it, in one sentence. */
  message: string;
}

/**
 * Checks the order of a stack (middleware outside-in, the transport may be included) and returns
 * the orderings that are almost always mistakes. Middleware are identified by function name
 * (`retry`, `expectStatus`, `bearerAuth`), which the @extapi/middleware build keeps; a renamed or
 * composed middleware is not inspected. A `bearerAuth` with a `refreshOn401: false` property is
 * treated as a static token (it never re-sends, so its place does not matter).
 *
 * The rules:
 * - `expectStatus` before `retry`: it sees only the response retry settles on, so the status it
 *   rejects cannot steer the retries; put it after `retry()`.
 * - `bearerAuth` before `retry` (with `refreshOn401`, the default): every attempt reuses the token
 *   read once per call, and a 401 refresh re-runs the whole retry loop (up to twice the attempts);
 *   put it after `retry()`.
 * - two `retry` in one stack: the attempts multiply (3 × 3 = 9 requests).
 * - `rateLimit` before `retry` or before `concurrencyLimit`: the partner may count more than the
 *   limit (see the rate-limit rule below).
 *
 * A transport anywhere but last is not a warning but a `ConfigError` from `createClient`.
 * @example
 * lintStack([expectStatus([200]), retry(), undiciTransport()]);
 * // → [{ rule: 'expect-status-outside-retry', positions: [0, 1], message: '…' }]
 */
export function lintStack(stack: ReadonlyArray<Middleware>): StackLintWarning[] {
  const names = stack.map((fn) => (typeof fn === 'function' ? fn.name : ''));
  const retries = names.flatMap((name, i) => (name === 'retry' ? [i] : []));
  const warnings: StackLintWarning[] = lintRateLimitPlacement(names);
  const firstRetry = retries[0];
  if (firstRetry === undefined) return warnings;
  // Only what sits before the innermost retry is outside every retry.
  const innermost = retries[retries.length - 1]!;
  names.forEach((name, i) => {
    if (i >= innermost) return;
    if (name === 'expectStatus') {
      warnings.push({
        rule: 'expect-status-outside-retry',
        positions: [i, innermost],
        message:
          `expectStatus (stack[${i}]) is outside retry (stack[${innermost}]): it sees only the response retry settles on, ` +
          'so the statuses it rejects cannot steer the retries; place expectStatus() after retry()',
      });
    }
    if (name === 'bearerAuth' && (stack[i] as { refreshOn401?: unknown }).refreshOn401 !== false) {
      warnings.push({
        rule: 'bearer-auth-outside-retry',
        positions: [i, innermost],
        message:
          `bearerAuth (stack[${i}]) is outside retry (stack[${innermost}]) with refreshOn401: every attempt reuses the token ` +
          'read once per call and a 401 refresh re-runs the whole retry loop; place bearerAuth() after retry()',
      });
    }
  });
  if (retries.length > 1) {
    warnings.push({
      rule: 'retry-twice',
      positions: retries,
      message: `retry appears ${retries.length} times (stack[${retries.join('], stack[')}]): the attempts multiply; keep one retry()`,
    });
  }
  return warnings;
}

/**
 * The placements of `rateLimit` that let a partner count more than its limit, given the stack's
 * middleware names outside-in: before `retry` (a call's retries take no start, so the partner sees
 * up to `limit` × attempts) and before `concurrencyLimit` (a call granted a start may then wait for
 * a slot, and reaches the partner later than the start it was counted at). A `rateLimit` meant as
 * a budget of calls rather than a partner's quota may sit before `retry` on purpose.
 * @example
 * lintRateLimitPlacement(['rateLimit', 'retry', 'undiciTransport']);
 * // → [{ rule: 'rate-limit-outside-retry', positions: [0, 1], message: '…' }]
 */
function lintRateLimitPlacement(names: readonly string[]): StackLintWarning[] {
  const warnings: StackLintWarning[] = [];
  const last = (name: string) => names.lastIndexOf(name);
  const innermostRetry = last('retry');
  const innermostSlots = last('concurrencyLimit');
  names.forEach((name, i) => {
    if (name !== 'rateLimit') return;
    if (i < innermostRetry) {
      warnings.push({
        rule: 'rate-limit-outside-retry',
        positions: [i, innermostRetry],
        message:
          `rateLimit (stack[${i}]) is outside retry (stack[${innermostRetry}]): retries take no start, so the partner ` +
          "can see up to limit × attempts requests in a window; for a partner's quota place rateLimit() after retry()",
      });
    }
    if (i < innermostSlots) {
      warnings.push({
        rule: 'rate-limit-outside-concurrency-limit',
        positions: [i, innermostSlots],
        message:
          `rateLimit (stack[${i}]) is outside concurrencyLimit (stack[${innermostSlots}]): a call granted a start may then ` +
          'wait for a slot and reach the partner later than its start was counted; place rateLimit() after concurrencyLimit()',
      });
    }
  });
  return warnings;
}

// The same message is emitted once per process: clients created per request must not flood stderr.
const emitted = new Set<string>();

/**
 * Reports {@link lintStack}'s findings once: one `logger.warn` per client when a logger is given,
 * else one `process.emitWarning` (code `EXTAPI_STACK_ORDER`) per distinct message per process.
 * Never throws: a logger that throws is ignored, a warning must not break client creation.
 */
export function warnStackOrder(stack: ReadonlyArray<Middleware>, logger?: Logger): void {
  let warnings: StackLintWarning[];
  try {
    warnings = lintStack(stack);
  } catch {
    return;
  }
  if (warnings.length === 0) return;
  const message = `extapi: likely mistake in the stack order: ${warnings.map((w) => w.message).join('; ')}`;
  try {
    if (logger) {
      logger.warn(
        {
          code: STACK_ORDER_WARNING_CODE,
          stack: stack.map((fn) => fn.name || 'anonymous'),
          rules: warnings.map((w) => w.rule),
        },
        message,
      );
      return;
    }
    if (emitted.has(message)) return;
    emitted.add(message);
    process.emitWarning(message, { code: STACK_ORDER_WARNING_CODE });
  } catch {
    // A broken logger is the caller's problem, never a reason to fail createClient.
  }
}
