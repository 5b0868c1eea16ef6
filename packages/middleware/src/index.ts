// @extapi/middleware: every middleware, each also importable on its own subpath
// (@extapi/middleware/retry…). Optional peers load only from their own subpaths.
export * from './logging/index.js';
export * from './circuit-breaker.js';
export * from './retry/index.js';
export * from './hedge/index.js';
export * from './timeout.js';
export * from './expect-status.js';
export * from './headers.js';
export * from './dedupe.js';
export * from './auth/index.js';
export * from './limits/index.js';
