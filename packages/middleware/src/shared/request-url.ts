// A request's URL for a log line, redacted, for logging (and any middleware that writes one): read
// from core's text of it when it has nothing to redact, so that most calls' URLs never become a
// URL object for it.
import { type HttpRequest, redactUrl, requestUrl } from '@extapi/core';

// What redactUrl may change: userinfo, a query, a fragment, path parameters. Without any of these
// it gives back the href as it is.
const MAY_HOLD_SECRETS = /[@?#;]/;

/**
 * `redactUrl(request.url, extraQuery)`, without a URL object for an href that holds nothing to redact.
 * @example
 * const url = redactedRequestUrl(ctx.request, redactQuery);
 */
export function redactedRequestUrl(request: HttpRequest, extraQuery?: ReadonlySet<string>): string {
  const { href } = requestUrl(request);
  return MAY_HOLD_SECRETS.test(href) ? redactUrl(request.url, extraQuery) : href;
}
