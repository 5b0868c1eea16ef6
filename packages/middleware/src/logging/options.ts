// The options of logging(): what each means, its default, and how it is read and checked.
import {
  ConfigError,
  type Logger,
  type OptionCheck,
  type OptionSpec,
  option,
  readOptions,
} from '@extapi/core';

/** Options of {@link logging}. Every field is optional; an explicit `undefined` means the default. */
export interface LoggingOptions {
  /**
   * A pino-style logger (`debug`/`info`/`warn`/`error`, each `(object, message)`).
   * @default none: silent, unless `NODE_DEBUG` names `extapi`, then compact lines on stderr
   */
  logger?: Logger;
  /**
   * Add request and response headers (redacted) and bodies up to `maxBodyBytes`. Only a response
   * body already buffered (`readBody: true`) is shown; a streamed one is never read. Request bodies
   * are shown only when they are a string or bytes.
   * @default false
   */
  verbose?: boolean;
  /** How many bytes of each body a verbose line shows. @default 1024 */
  maxBodyBytes?: number;
  /**
   * More header names whose values show as `[REDACTED]` (any letter case), on top of core's
   * `DEFAULT_SENSITIVE_HEADERS` (`authorization`, `proxy-authorization`, `cookie`, `set-cookie`,
   * `x-api-key`, `api-key`, `private-token`, `x-goog-api-key`…), the client's `sensitiveHeaders`
   * and any header an auth middleware marked sensitive. Body fields of these names are redacted too.
   * @default []
   */
  redactHeaders?: readonly string[];
  /**
   * More query parameter (and body field) names whose values show as `[REDACTED]`, on top of names
   * like `token`, `key`, `secret`, `password`, `pwd`, `signature`, `session`, `code`, `otp`.
   * @default []
   */
  redactQuery?: readonly string[];
  /**
   * More body field names whose values show as `[REDACTED]` in verbose lines: JSON members at any
   * depth, form fields and `Name: value` lines, on top of the secret query names and every
   * redacted header name (so an echoed `{"headers": {"authorization": …}}` never shows).
   * @default []
   */
  redactBodyFields?: readonly string[];
}

/** The defaults of {@link logging}. */
export const DEFAULT_LOGGING_OPTIONS = Object.freeze({
  /** @see LoggingOptions.logger */
  logger: undefined as Logger | undefined,
  /** @see LoggingOptions.verbose */
  verbose: false,
  /** @see LoggingOptions.maxBodyBytes */
  maxBodyBytes: 1024,
  /** @see LoggingOptions.redactHeaders */
  redactHeaders: Object.freeze([]) as readonly string[],
  /** @see LoggingOptions.redactQuery */
  redactQuery: Object.freeze([]) as readonly string[],
  /** @see LoggingOptions.redactBodyFields */
  redactBodyFields: Object.freeze([]) as readonly string[],
});

/** {@link LoggingOptions} after validation: names lower-cased into sets. */
export interface ResolvedLoggingOptions {
  /** The logger, or `undefined` to stay silent (unless `NODE_DEBUG` names `extapi`). */
  logger: Logger | undefined;
  /** Whether lines include headers and bodies. */
  verbose: boolean;
  /** How many bytes of each body a verbose line shows. */
  maxBodyBytes: number;
  /** Extra header names to redact, lower-cased. */
  redactHeaders: ReadonlySet<string>;
  /** Extra query parameter and body field names to redact, lower-cased. */
  redactQuery: ReadonlySet<string>;
  /** Extra body field names to redact, lower-cased. */
  redactBodyFields: ReadonlySet<string>;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A logger method logging() calls. */
export type Level = (typeof LEVELS)[number];

// A list of names, read into a lower-cased set (names are matched in any letter case).
const names: OptionCheck<ReadonlySet<string>> = (value, name) => {
  const list = option.array(option.string<never>(), [] as string[])(value, name);
  const set = new Set<string>();
  list.forEach((item, i) => {
    if (item.trim() === '') throw new ConfigError(`${name}[${i}]`, item, 'expected a name');
    set.add(item.trim().toLowerCase());
  });
  return set;
};

const LOGGING_SPEC = {
  logger: option.logger<Logger>(LEVELS),
  verbose: option.boolean(DEFAULT_LOGGING_OPTIONS.verbose),
  maxBodyBytes: option.integer({ min: 0, default: DEFAULT_LOGGING_OPTIONS.maxBodyBytes }),
  redactHeaders: names,
  redactQuery: names,
  redactBodyFields: names,
} satisfies OptionSpec<LoggingOptions>;

/**
 * Validates {@link LoggingOptions} and fills in the defaults: own properties only (a polluted
 * `Object.prototype` cannot turn on `verbose`), an unknown key is refused with the nearest one.
 * @throws ConfigError naming the option and the value
 * @example
 * resolveLoggingOptions({ maxBodyBytes: 256 }).maxBodyBytes; // 256
 */
export function resolveLoggingOptions(options: LoggingOptions = {}): ResolvedLoggingOptions {
  return readOptions('logging()', options, LOGGING_SPEC);
}
