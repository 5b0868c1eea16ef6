// The stack check as a third-party author meets it: a middleware of its own, declared with core's
// defineMiddleware, next to this package's middleware, warned about in the same way.
import {
  createClient,
  defineMiddleware,
  lintStack,
  type Middleware,
  middlewareInfo,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { Registry } from 'prom-client';
import { bearerAuth } from './auth/index.js';
import { circuitBreaker } from './circuit-breaker.js';
import { expectStatus } from './expect-status.js';
import { headers } from './headers.js';
import { hedge } from './hedge/index.js';
import { concurrencyLimit, rateLimit } from './limits/index.js';
import { logging } from './logging/index.js';
import { openTelemetry } from './opentelemetry/index.js';
import { prometheusMetrics } from './prometheus/index.js';
import { retry } from './retry/index.js';
import { timeout } from './timeout.js';

/** A request-signing middleware from another package: the signature covers each attempt's date. */
function signRequest(): Middleware {
  return defineMiddleware(
    async function signRequest(ctx, next) {
      ctx.request.headers.set('x-signature', `signed:${Date.now()}`);
      return next(ctx);
    },
    {
      name: 'signRequest',
      placement: { per: 'attempt', reason: 'a signature covers the date of one attempt' },
    },
  );
}

describe('middleware placement declarations', () => {
  it('every middleware of this package declares its factory name', () => {
    const made: Array<[string, Middleware]> = [
      ['retry', retry()],
      ['hedge', hedge()],
      ['timeout', timeout({ ms: 1000 })],
      ['expectStatus', expectStatus()],
      ['headers', headers({ 'x-a': '1' })],
      ['headers', headers(() => {})],
      ['bearerAuth', bearerAuth(() => 't')],
      ['logging', logging()],
      ['logging', logging({ logger: { debug() {}, info() {}, warn() {}, error() {} } })],
      ['circuitBreaker', circuitBreaker()],
      // The fleet circuit (its Redis connection opens on the first call, so never here).
      ['circuitBreaker', circuitBreaker({ redis: 'redis://127.0.0.1:1', id: 'fleet' })],
      ['concurrencyLimit', concurrencyLimit({ max: 1 })],
      ['rateLimit', rateLimit({ limit: 1, windowMs: 1000 })],
      ['openTelemetry', openTelemetry()],
      ['prometheusMetrics', prometheusMetrics({ registry: new Registry() })],
    ];
    for (const [name, fn] of made) expect(middlewareInfo(fn)?.name).toBe(name);
  });

  it('a third-party per-attempt middleware before retry gets the same warning as expectStatus', () => {
    const ours = lintStack([expectStatus(), retry()]);
    const theirs = lintStack([signRequest(), retry()]);
    expect(ours).toEqual([expect.objectContaining({ rule: 'outside-retry', positions: [0, 1] })]);
    expect(theirs).toEqual([expect.objectContaining({ rule: 'outside-retry', positions: [0, 1] })]);
    expect(theirs[0]!.message).toBe(
      'signRequest (stack[0]) runs once per attempt but is outside retry (stack[1]): a signature covers the date of one attempt; place signRequest() after retry()',
    );
    expect(lintStack([retry(), signRequest()])).toEqual([]);
  });

  it('createClient warns about a third-party middleware through the logger, naming it in the stack', () => {
    const warn = jest.fn();
    const log = { debug() {}, info() {}, warn, error() {} };
    const client = createClient([signRequest(), retry(), mockTransport()], { logger: log });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatchObject({
      stack: ['signRequest', 'retry'],
      rules: ['outside-retry'],
    });
    expect(client.describe()).toEqual(['signRequest', 'retry', 'mockTransport']);
  });

  it('bearerAuth declares a placement only when it refreshes on 401', () => {
    expect(lintStack([bearerAuth(() => 't'), retry()])).toEqual([
      expect.objectContaining({ rule: 'outside-retry' }),
    ]);
    expect(lintStack([bearerAuth(() => 't', { refreshOn401: false }), retry()])).toEqual([]);
  });

  it('two retry() are flagged as duplicates, whatever sits between them', () => {
    expect(lintStack([retry(), timeout({ ms: 100 }), retry()])).toEqual([
      expect.objectContaining({ rule: 'duplicate', positions: [0, 2] }),
    ]);
  });

  it('hedge() is a re-sending boundary: a per-attempt middleware above it (and below retry) is flagged', () => {
    expect(lintStack([retry(), hedge(), expectStatus()])).toEqual([]);
    expect(lintStack([retry(), rateLimit({ limit: 1, windowMs: 1000 }), hedge()])).toEqual([
      expect.objectContaining({ rule: 'outside-retry', positions: [1, 2] }),
    ]);
  });
});
