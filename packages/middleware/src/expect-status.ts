// expectStatus(): turns any unexpected status into an HttpStatusError that carries the response.
// Placed after retry() its retryable failures (503…) are still retried; before it, they are not.
import {
  defineMiddleware,
  ConfigError,
  type Context,
  type HttpResponse,
  HttpStatusError,
  type Middleware,
  type Next,
  option,
} from '@extapi/core';

const EXPECT_STATUS_PLACEMENT = {
  name: 'expectStatus',
  placement: {
    per: 'attempt' as const,
    reason:
      'it sees only the response retry settles on, so the statuses it rejects cannot steer the retries',
  },
};

/** The statuses to accept: a list, or a predicate of the status. */
export type ExpectedStatuses = readonly number[] | ((status: number) => boolean);

/**
 * The default of {@link expectStatus}: every 2xx (a 204 to a DELETE or a 202 is not an error).
 * @example
 * DEFAULT_EXPECTED_STATUSES(204); // true
 */
export const DEFAULT_EXPECTED_STATUSES = (status: number): boolean => status >= 200 && status < 300;

const statusList = option.array(option.integer<never>({ min: 100, max: 599 }));

/**
 * Validates the statuses once; returns the predicate and how to describe it in errors.
 * @example
 * resolveExpectedStatuses([200, 204]).expected; // '200, 204'
 */
export function resolveExpectedStatuses(statuses?: ExpectedStatuses): {
  /** Whether a status is expected. */
  accept: (status: number) => boolean;
  /** How the expected statuses read in an `HttpStatusError` message. */
  expected: string;
} {
  if (statuses === undefined) return { accept: DEFAULT_EXPECTED_STATUSES, expected: '2xx' };
  if (typeof statuses === 'function') {
    return {
      accept: statuses,
      expected: statuses.name ? `${statuses.name}(status)` : 'a status the predicate accepts',
    };
  }
  if (!Array.isArray(statuses) || statuses.length === 0) {
    throw new ConfigError(
      'statuses',
      statuses,
      'expected a non-empty array of statuses or a predicate',
    );
  }
  const set = new Set(statusList(statuses, 'statuses'));
  return { accept: (status) => set.has(status), expected: [...set].join(', ') };
}

/**
 * Throws `HttpStatusError` for any status other than `statuses`: a list, or a predicate of the
 * status; without an argument every 2xx is accepted. The error carries the response, its body
 * already read when the call reads bodies (`readBody`, the default), so the caller can inspect it;
 * with `readBody: false` call `error.response.discard()` or read it.
 *
 * Per pass: one check of the status; no state.
 * @example
 * createClient([retry(), expectStatus(), undiciTransport()]); // every 2xx
 * // or: expectStatus([200, 204]), expectStatus((status) => status < 400)
 */
export function expectStatus(statuses?: ExpectedStatuses): Middleware {
  const { accept, expected } = resolveExpectedStatuses(statuses);

  async function unexpected(ctx: Context, response: HttpResponse): Promise<never> {
    // A middleware may hand back an unread body even when the caller wants bodies read.
    if (ctx.readBody && !response.bodyRead) await response.bytes().catch(() => undefined);
    throw new HttpStatusError(response, { expected, attempt: ctx.attempt });
  }

  // Not async: an expected status costs one `.then`, not an async frame.
  const middleware = function expectStatus(ctx: Context, next: Next): Promise<HttpResponse> {
    return next(ctx).then((response) =>
      accept(response.status) ? response : unexpected(ctx, response),
    );
  };
  return defineMiddleware(middleware, EXPECT_STATUS_PLACEMENT);
}
