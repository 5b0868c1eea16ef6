// The body policy's stream adapter in the build for browsers and workers (see platform-streams.ts).
export { webStreams as platformStreams } from './web-streams.js';
