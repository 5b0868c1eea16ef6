// @extapi/core: the contract (types), compose, createClient, responses, errors and helpers.
// Middleware and backends depend on this package only. This is the Node build's entry (package.json
// `node` condition): streamed bodies are Node Readables. index.web.ts is the one for browsers and workers.
export * from './universal.js';
export {
  decodeStream,
  discardStream,
  fromWebStream,
  limitStream,
  nodeStreams,
  toReadable,
} from './node-streams.js';
