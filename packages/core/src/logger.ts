// The logger shape extapi writes to: pino's, so pino, bunyan-style adapters and console wrappers fit.
// Middleware accept one as an option; nothing logs unless given one (or NODE_DEBUG=extapi).

/** A pino-style logger: each method takes a structured object and a message. */
export interface Logger {
  /** Logs at debug level. */
  debug(obj: object, msg?: string): void;
  /** Logs at info level. */
  info(obj: object, msg?: string): void;
  /** Logs at warn level. */
  warn(obj: object, msg?: string): void;
  /** Logs at error level. */
  error(obj: object, msg?: string): void;
}
