// basicAuth(): sets Authorization: Basic with UTF-8 credentials (RFC 7617) on every pass.
// Anywhere in the stack; the header value is computed once, when the middleware is made.
import {
  ConfigError,
  type Context,
  type HttpResponse,
  markSensitiveHeader,
  type Middleware,
  type Next,
} from '@extapi/core';

/** Options of {@link basicAuth}. */
export interface BasicAuthOptions {
  /** The user-id; RFC 7617 forbids a colon in it. */
  username: string;
  /** The password; may be empty. */
  password: string;
}

// RFC 7617 §2: user-id and password must not contain control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Validates {@link BasicAuthOptions} and builds the header value; throws `ConfigError`. */
export function resolveBasicAuthOptions(options: BasicAuthOptions): string {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'expected { username, password }');
  }
  const { username, password } = options;
  if (typeof username !== 'string' || username.includes(':') || CONTROL.test(username)) {
    throw new ConfigError(
      'username',
      username,
      'expected a string without ":" or control characters (RFC 7617)',
    );
  }
  // The password itself never goes into the error message.
  if (typeof password !== 'string' || CONTROL.test(password)) {
    throw new ConfigError(
      'password',
      typeof password === 'string' ? '[REDACTED]' : password,
      'expected a string without control characters (RFC 7617)',
    );
  }
  // RFC 7617 §2.1: charset UTF-8, after Unicode Normalization Form C.
  const credentials = `${username}:${password}`.normalize('NFC');
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

/**
 * Sets `Authorization: Basic base64(username:password)` (UTF-8, RFC 7617) on every pass and marks
 * it sensitive, so a redirect to another origin drops it.
 *
 * Per pass: one header set. The encoded value is computed once and shared by every call.
 * @example
 * createClient([retry(), basicAuth({ username: 'api', password: process.env.API_PASSWORD! }), undiciTransport()]);
 */
export function basicAuth(options: BasicAuthOptions): Middleware {
  const value = resolveBasicAuthOptions(options);

  return async function basicAuth(ctx: Context, next: Next): Promise<HttpResponse> {
    ctx.request.headers.set('authorization', value);
    markSensitiveHeader(ctx, 'authorization');
    return next(ctx);
  };
}
