// basicAuth(): sets Authorization: Basic with UTF-8 credentials (RFC 7617) on every pass.
// Anywhere in the stack; the header value is computed once, when the middleware is made.
import {
  base64,
  defineMiddleware,
  ConfigError,
  type Context,
  type HttpResponse,
  markSensitiveHeader,
  type Middleware,
  type Next,
  type OptionSpec,
  option,
  REDACTED,
  readOptions,
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

const SPEC = {
  username: (value, name) => {
    if (typeof value !== 'string' || value.includes(':') || CONTROL.test(value)) {
      throw new ConfigError(
        name,
        value,
        'expected a string without ":" or control characters (RFC 7617)',
      );
    }
    return value;
  },
  // The password never goes into an error, whatever its type.
  password: option.secret((value, name) => {
    if (typeof value !== 'string' || CONTROL.test(value)) {
      throw new ConfigError(name, value, 'expected a string without control characters (RFC 7617)');
    }
    return value;
  }),
} satisfies OptionSpec<BasicAuthOptions>;

/**
 * Validates {@link BasicAuthOptions} (own properties only, unknown ones refused with the nearest
 * known name) and builds the header value; throws `ConfigError`, never quoting the password.
 * @example
 * resolveBasicAuthOptions({ username: 'api', password: 'pw' }); // 'Basic YXBpOnB3'
 */
export function resolveBasicAuthOptions(options: BasicAuthOptions): string {
  if (typeof options !== 'object' || options === null) {
    // Never quoted: a caller may have passed the password itself.
    throw new ConfigError('options', REDACTED, 'expected { username, password }');
  }
  const { username, password } = readOptions('basicAuth()', options, SPEC);
  // RFC 7617 §2.1: charset UTF-8, after Unicode Normalization Form C.
  const credentials = `${username}:${password}`.normalize('NFC');
  return `Basic ${base64(credentials)}`;
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

  // Not async: nothing to wait for, so no promise of its own.
  const middleware = function basicAuth(ctx: Context, next: Next): Promise<HttpResponse> {
    ctx.request.headers.set('authorization', value);
    markSensitiveHeader(ctx, 'authorization');
    return next(ctx);
  };
  return defineMiddleware(middleware, { name: 'basicAuth' });
}
