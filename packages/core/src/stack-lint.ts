// lintStack(): finds orderings of a stack that are almost always mistakes, from what middleware declare.
// createClient calls it once per client and warns (logger or process warning); it never throws.
import type { Logger } from './logger.js';
import { middlewareInfo, middlewareName } from './middleware-info.js';
import type { Middleware } from './types.js';

/** The `code` of every stack-order warning, for `process.on('warning')` filters and log queries. */
export const STACK_ORDER_WARNING_CODE = 'EXTAPI_STACK_ORDER';

/** One likely mistake in the order of a stack, as {@link lintStack} reports it. */
export interface StackLintWarning {
  /**
   * A stable name of the rule broken:
   * - `outside-retry`: a middleware declared `per: 'attempt'` sits before one that re-sends;
   * - `inside-retry`: a middleware declared `per: 'call'` sits after one that re-sends;
   * - `order`: a middleware sits outside one it declared it must be `inside` of, or the reverse;
   * - `duplicate`: a middleware declared `unique` appears more than once;
   * - `after-terminal`: middleware follow one declared `terminal`, so they never run.
   */
  rule: 'outside-retry' | 'inside-retry' | 'order' | 'duplicate' | 'after-terminal';
  /** Indexes in the stack of the middleware involved, outside-in. */
  positions: number[];
  /** What is wrong and how to fix it, in one sentence. */
  message: string;
}

const because = (reason: string | undefined) => (reason ? `: ${reason}` : '');

/**
 * Checks the order of a stack (middleware outside-in, the transport may be included) and returns
 * the orderings that are almost always mistakes. It reads what each middleware declared with
 * {@link defineMiddleware} (its name and {@link MiddlewarePlacement}), never function names, so it
 * works for minified bundles and for third-party middleware alike; a middleware that declared
 * nothing, and the inside of a `compose()`, are not inspected.
 *
 * The rules (see {@link StackLintWarning.rule}), with this project's middleware as examples:
 * - `outside-retry`: `expectStatus` (per attempt) before `retry` sees only the response retry
 *   settles on; `bearerAuth` with `refreshOn401` before `retry` reuses one token for every attempt
 *   and re-runs the whole retry loop on a 401. Only what sits before the innermost re-sending
 *   middleware is outside every one.
 * - `inside-retry`: a per-call middleware after a re-sending one runs on every attempt.
 * - `order`: an `inside`/`outside` constraint between two named middleware is broken.
 * - `duplicate`: two `retry` in one stack multiply their attempts (3 × 3 = 9 requests).
 * - `after-terminal`: middleware after a terminal one never run.
 *
 * A transport anywhere but last is not a warning but a `ConfigError` from `createClient`.
 * @example
 * lintStack([expectStatus([200]), retry(), undiciTransport()]);
 * // → [{ rule: 'outside-retry', positions: [0, 1], message: 'expectStatus (stack[0]) runs once per attempt but is outside retry (stack[1])…' }]
 */
export function lintStack(stack: ReadonlyArray<Middleware>): StackLintWarning[] {
  const infos = stack.map(middlewareInfo);
  // A terminal middleware followed only by the transport is fine: that is the only way to end a stack.
  const last = (stack[stack.length - 1] as { isTransport?: unknown } | undefined)?.isTransport
    ? stack.length - 2
    : stack.length - 1;
  const warnings: StackLintWarning[] = [];
  const resenders = infos.flatMap((info, i) => (info?.placement.resends ? [i] : []));
  const outermost = resenders[0];
  const innermost = resenders[resenders.length - 1];
  infos.forEach((info, i) => {
    if (!info) return;
    const { name, placement } = info;
    if (placement.per === 'attempt' && innermost !== undefined && i < innermost) {
      const resender = infos[innermost]!.name;
      warnings.push({
        rule: 'outside-retry',
        positions: [i, innermost],
        message: `${name} (stack[${i}]) runs once per attempt but is outside ${resender} (stack[${innermost}])${because(placement.reason)}; place ${name}() after ${resender}()`,
      });
    }
    if (placement.per === 'call' && outermost !== undefined && i > outermost) {
      const resender = infos[outermost]!.name;
      warnings.push({
        rule: 'inside-retry',
        positions: [outermost, i],
        message: `${name} (stack[${i}]) runs once per call but is inside ${resender} (stack[${outermost}])${because(placement.reason)}; place ${name}() before ${resender}()`,
      });
    }
    infos.forEach((other, j) => {
      if (!other || j === i) return;
      const mustBeInside = j > i && placement.inside.includes(other.name);
      const mustBeOutside = j < i && placement.outside.includes(other.name);
      if (!mustBeInside && !mustBeOutside) return;
      const where = mustBeInside ? 'inside' : 'outside';
      warnings.push({
        rule: 'order',
        positions: [Math.min(i, j), Math.max(i, j)],
        message: `${name} (stack[${i}]) must sit ${where} ${other.name} (stack[${j}])${because(placement.reason)}; place ${name}() ${mustBeInside ? 'after' : 'before'} ${other.name}()`,
      });
    });
    if (placement.terminal && i < last) {
      warnings.push({
        rule: 'after-terminal',
        positions: [i, last],
        message: `${name} (stack[${i}]) answers without calling next, so what follows it (stack[${i + 1}]…) never runs; make it the last middleware`,
      });
    }
  });
  const seen = new Map<string, number[]>();
  infos.forEach((info, i) => {
    if (info?.placement.unique) seen.set(info.name, [...(seen.get(info.name) ?? []), i]);
  });
  for (const [name, positions] of seen) {
    if (positions.length < 2) continue;
    const reason = infos[positions[0]!]!.placement.reason;
    warnings.push({
      rule: 'duplicate',
      positions,
      message: `${name} appears ${positions.length} times (stack[${positions.join('], stack[')}])${because(reason)}; keep one ${name}()`,
    });
  }
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
          stack: stack.map(middlewareName),
          rules: warnings.map((w) => w.rule),
        },
        message,
      );
      return;
    }
    if (emitted.has(message)) return;
    emitted.add(message);
    // A process warning on Node (filterable by code); the console in browsers and workers.
    const proc = (globalThis as { process?: NodeJS.Process }).process;
    if (typeof proc?.emitWarning === 'function') {
      proc.emitWarning(message, { code: STACK_ORDER_WARNING_CODE });
    } else console.warn(`${STACK_ORDER_WARNING_CODE}: ${message}`);
  } catch {
    // A broken logger is the caller's problem, never a reason to fail createClient.
  }
}
