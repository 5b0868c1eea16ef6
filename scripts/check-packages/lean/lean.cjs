// The CommonJS twin of lean.mjs: the same scenario, with the packages loaded through `require`
// and the middleware subpath exports.
const { createClient } = require('@extapi/core');
const { undiciTransport } = require('@extapi/backend-undici');
const { runLean } = require('./scenario.cjs');

runLean(
  {
    createClient,
    undiciTransport,
    ...require('@extapi/middleware/auth'),
    ...require('@extapi/middleware/limits'),
    ...require('@extapi/middleware/expect-status'),
    ...require('@extapi/middleware/logging'),
    ...require('@extapi/middleware/retry'),
  },
  'require',
).catch((error) => {
  console.error(error);
  process.exit(1);
});
