// @extapi/core for browsers and workers (package.json `default` condition): the same API as
// index.ts without the Node stream helpers; the build swaps platform-streams.ts for
// platform-streams.web.ts, so streamed bodies are web ReadableStreams and nothing needs Node.
export * from './universal.js';
