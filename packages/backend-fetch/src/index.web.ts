// @extapi/backend-fetch for browsers and workers (package.json `default` condition): the same API
// as index.ts; the build swaps platform.ts for platform.web.ts, so nothing needs Node.
export * from './index.js';
