// The body policy's stream adapter of this build: Node streams here. The build for browsers and
// workers (tsup.config.ts, `web` entry) swaps this file for platform-streams.web.ts.
export { nodeStreams as platformStreams } from './node-streams.js';
