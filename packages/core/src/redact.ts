// Redaction of secrets in URLs and headers, shared by errors, logging, metrics and tracing.
// One list, so that no sink forgets a secret another one hides.

/** Headers whose values never appear in logs, errors or telemetry. */
export const DEFAULT_REDACT_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'cookie2',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
];

/** What stands in for a redacted value. */
export const REDACTED = '[REDACTED]';

// Query parameter names that carry secrets: token, access_token, api_key, apikey, secret,
// client_secret, password, passwd, signature, sig, X-Amz-Signature, X-Goog-Signature, auth, credential.
const SECRET_QUERY = /token|key|secret|passw|signature|^sig$|^auth$|credential/i;

/** Whether a query parameter with this name holds a secret (`token`, `api_key`, `sig`…), plus `extra` names. */
export function isSecretQueryName(name: string, extra?: ReadonlySet<string>): boolean {
  return SECRET_QUERY.test(name) || extra?.has(name.toLowerCase()) === true;
}

/**
 * A URL as text with userinfo removed and secret query values replaced by `[REDACTED]`.
 * `extraQuery` adds lower-case parameter names to redact. A string that is not a URL is returned cut at `?`.
 */
export function redactUrl(input: string | URL, extraQuery?: ReadonlySet<string>): string {
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : new URL(input.href);
  } catch {
    const text = String(input);
    const q = text.indexOf('?');
    return q === -1 ? text : `${text.slice(0, q)}?${REDACTED}`;
  }
  url.username = '';
  url.password = '';
  if (url.search !== '') {
    // Rebuilt by hand to keep the parameters' order and leave the marker unescaped.
    let changed = false;
    const parts: string[] = [];
    for (const [name, value] of url.searchParams) {
      const secret = isSecretQueryName(name, extraQuery);
      changed ||= secret;
      parts.push(`${encodeURIComponent(name)}=${secret ? REDACTED : encodeURIComponent(value)}`);
    }
    if (changed) url.search = parts.join('&');
  }
  return url.href;
}

/**
 * Headers as a plain object with sensitive values replaced by `[REDACTED]`.
 * `redact` holds lower-case names; the default list always applies.
 */
export function redactHeaders(
  headers: Headers,
  redact: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    out[lower] = DEFAULT_REDACT_HEADERS.includes(lower) || redact.has(lower) ? REDACTED : value;
  }
  return out;
}
