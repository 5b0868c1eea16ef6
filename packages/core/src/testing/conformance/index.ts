// The transport conformance suite: one list of cases every backend passes against a real node:http
// (or https, h2) server on 127.0.0.1, registered with whichever runner the author uses.
import type { Transport } from '../../types.js';
import { abortCases } from './aborts.js';
import { connectionCases } from './connections.js';
import { decodingCases } from './decoding.js';
import { networkErrorCases } from './network-errors.js';
import { progressCases } from './progress.js';
import { redirectCases } from './redirects.js';
import { requestCases } from './requests.js';
import { responseCases } from './responses.js';
import { sizeLimitCases } from './size-limits.js';
import {
  type AddCase,
  type ConformanceServerKind,
  type ConformanceTransportOptions,
  createSuiteContext,
  type SuiteContext,
} from './suite.js';

export type { ConformanceServerKind, ConformanceTransportOptions } from './suite.js';

/** Options of {@link transportConformanceCases} and {@link describeTransportConformance}. */
export interface TransportConformanceOptions {
  /**
   * Tests to skip, by exact title, each with the written reason why this transport cannot pass it.
   * An empty reason or a title that does not exist fails the suite, so skips stay honest.
   * @default {}
   */
  skip?: Record<string, string>;
  /**
   * The servers to test against. With `https` or `h2` they use certificates of a private CA (see
   * `createTlsFixtures`) and every `makeTransport` call receives `{ tls: { ca } }` to trust it;
   * `h2` also checks that the transport really speaks HTTP/2 (e.g. undici with `allowH2: true`).
   * @default 'http'
   */
  server?: ConformanceServerKind;
}

/** One case of the suite, ready to register with any test runner. */
export interface ConformanceCase {
  /** The case's title: a sentence of behaviour, and the key of `skip`. */
  readonly title: string;
  /** Runs the case; rejects (an `AssertionError` from node:assert, or the error met) when it fails. */
  readonly run: () => Promise<void>;
  /** A timeout longer than the runner's default, for the few cases that need one. */
  readonly timeoutMs?: number;
  /** Why this transport skips the case (from `options.skip`); `undefined` when it runs. */
  readonly skip?: string;
}

/** The cases of one subject (redirects, network errors, …). */
export interface ConformanceGroup {
  /** The subject, e.g. `redirects`. */
  readonly title: string;
  /** Its cases, in order. */
  readonly cases: readonly ConformanceCase[];
}

/** The whole suite for one transport: run `setup()` before the cases and `teardown()` after. */
export interface ConformanceSuite {
  /** `<name> transport conformance`, with the server kind when it is not `http`. */
  readonly title: string;
  /** Starts the fixtures, the test servers and the shared client. */
  setup(): Promise<void>;
  /** Closes every client and server the suite made. */
  teardown(): Promise<void>;
  /** The cases by subject. */
  readonly groups: readonly ConformanceGroup[];
}

// The subjects in the order they run; each file holds one.
const SUBJECTS: ReadonlyArray<[string, (s: SuiteContext, test: AddCase) => void]> = [
  ['methods, URLs and request bodies', requestCases],
  ['responses', responseCases],
  ['progress', progressCases],
  ['content decoding', decodingCases],
  ['maxResponseBytes', sizeLimitCases],
  ['redirects', redirectCases],
  ['network errors', networkErrorCases],
  ['abort and timeouts', abortCases],
  ['connections', connectionCases],
];

/**
 * The transport conformance suite as plain data, for any test runner: every case runs through
 * `createClient([makeTransport()])` against a real node:http server on 127.0.0.1, so every backend
 * is held to the same observable behaviour (methods, bodies, streaming, headers, redirects,
 * errors, abort, timeouts, decoding, `maxResponseBytes`, keep-alive and `discard()`). The checks
 * are node:assert's: a failing case rejects with an `AssertionError`, which jest, vitest and
 * node:test all report. {@link describeTransportConformance} registers it in one call.
 *
 * Throws at once when a skip has no written reason or names no case.
 * @example
 * import { after, before, describe, test } from 'node:test';
 * const suite = transportConformanceCases('mine', (options) => myTransport(options));
 * describe(suite.title, () => {
 *   before(() => suite.setup());
 *   after(() => suite.teardown());
 *   for (const group of suite.groups) {
 *     describe(group.title, () => {
 *       for (const c of group.cases) test(c.title, { skip: c.skip }, c.run);
 *     });
 *   }
 * });
 */
export function transportConformanceCases(
  name: string,
  makeTransport: (options?: ConformanceTransportOptions) => Transport,
  options: TransportConformanceOptions = {},
): ConformanceSuite {
  const skip = options.skip ?? {};
  const kind = options.server ?? 'http';
  for (const [title, reason] of Object.entries(skip)) {
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new Error(
        `transportConformanceCases(${name}): skip of "${title}" needs a written reason`,
      );
    }
  }
  const s = createSuiteContext(makeTransport, kind);
  const titles = new Set<string>();
  const groups = SUBJECTS.map(([title, add]) => {
    const cases: ConformanceCase[] = [];
    add(s, (caseTitle, run, timeoutMs) => {
      titles.add(caseTitle);
      cases.push({ title: caseTitle, run, timeoutMs, skip: skip[caseTitle] });
    });
    return { title, cases };
  });
  // A skip naming no case is a typo that would hide a failure.
  const unknown = Object.keys(skip).filter((title) => !titles.has(title));
  if (unknown.length > 0) {
    throw new Error(
      `transportConformanceCases(${name}): skip names unknown tests: ${unknown.join('; ')}`,
    );
  }
  return {
    title: `${name} transport conformance${kind === 'http' ? '' : ` (${kind})`}`,
    setup: () => s.setup(),
    teardown: () => s.teardown(),
    groups,
  };
}

/**
 * The four functions of a test runner the suite registers with. jest and vitest: pass their
 * `describe`, `test`, `beforeAll`, `afterAll`; node:test: `{ describe, test, beforeAll: before,
 * afterAll: after }`.
 */
export interface ConformanceRunner {
  /** Opens a group of tests. */
  describe(title: string, body: () => void): unknown;
  /** Registers a test; `timeoutMs` when the case needs longer than the default, and `test.skip`. */
  test: {
    (title: string, body: () => Promise<void>, timeoutMs?: number): unknown;
    /** Registers a skipped test. */
    skip(title: string, body: () => Promise<void>): unknown;
  };
  /** Runs once before the tests of the group it is called in. */
  beforeAll(body: () => Promise<void>): unknown;
  /** Runs once after the tests of the group it is called in. */
  afterAll(body: () => Promise<void>): unknown;
}

/**
 * Registers the transport conformance suite ({@link transportConformanceCases}) with a runner's
 * `describe`/`test` (jest, vitest or node:test): one group per subject, a skipped case shown with
 * its reason. `makeTransport` is called once per client the suite builds; pass
 * `options.maxResponseBytes`, `headersTimeoutMs` and `tls` on to your factory.
 * @example
 * // jest (globals) or vitest (import { describe, test, beforeAll, afterAll } from 'vitest'):
 * describeTransportConformance('undici', (options) => undiciTransport(options), {
 *   runner: { describe, test, beforeAll, afterAll },
 * });
 * // node:test:
 * import { after, before, describe, test } from 'node:test';
 * describeTransportConformance('mine', (options) => myTransport(options), {
 *   runner: { describe, test, beforeAll: before, afterAll: after },
 * });
 */
export function describeTransportConformance(
  name: string,
  makeTransport: (options?: ConformanceTransportOptions) => Transport,
  options: TransportConformanceOptions & { runner: ConformanceRunner },
): void {
  const { runner, ...rest } = options;
  const suite = transportConformanceCases(name, makeTransport, rest);
  runner.describe(suite.title, () => {
    runner.beforeAll(() => suite.setup());
    runner.afterAll(() => suite.teardown());
    for (const group of suite.groups) {
      runner.describe(group.title, () => {
        for (const c of group.cases) {
          if (c.skip === undefined) runner.test(c.title, c.run, c.timeoutMs);
          else runner.test.skip(`${c.title} [skipped: ${c.skip}]`, c.run);
        }
      });
    }
  });
}
