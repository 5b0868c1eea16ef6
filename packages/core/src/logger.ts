// The logger shape extapi writes to: pino's, so pino, bunyan-style adapters and console wrappers fit.
// Middleware accept one as an option; nothing logs unless given one (or NODE_DEBUG=extapi).

/** A pino-style logger: each method takes a structured object and a message. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
