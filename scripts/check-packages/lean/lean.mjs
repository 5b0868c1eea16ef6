// Only @extapi/core, @extapi/middleware and @extapi/backend-undici are installed: retry, auth,
// limits and logging must work without prom-client, @opentelemetry/api, ioredis or redis-semaphore.
// This run loads the packages through `import` and the root entry points.
import { createClient } from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import * as middleware from '@extapi/middleware';
import scenario from './scenario.cjs';

await scenario.runLean({ createClient, undiciTransport, ...middleware }, 'import');
