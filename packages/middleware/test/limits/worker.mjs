// A worker process for the distributed limit tests: imports the built packages, fires calls
// through a Redis-shared limit at the test server, and prints one JSON line with the results.
// Usage: node worker.mjs '<json config>'
import { createClient } from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import { concurrencyLimit, rateLimit } from '../../dist/limits.js';

const config = JSON.parse(process.argv[2]);
const limiter =
  config.kind === 'concurrency'
    ? concurrencyLimit({
        max: config.max,
        redis: config.redis,
        id: config.id,
        leaseMs: config.leaseMs,
      })
    : rateLimit({
        limit: config.limit,
        windowMs: config.windowMs,
        redis: config.redis,
        id: config.id,
      });
const transport = undiciTransport();
const client = createClient([limiter, transport]);

// Wait for the go signal on stdin so every worker starts at the same moment.
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
const started = performance.now();
const results = await Promise.allSettled(
  Array.from({ length: config.calls }, (_, i) =>
    client.get(`${config.url}${config.path ?? '/'}?w=${config.name}&i=${i}`),
  ),
);
const elapsedMs = performance.now() - started;
const failures = results
  .filter((r) => r.status === 'rejected')
  .map((r) => String(r.reason?.message ?? r.reason));
process.stdout.write(
  `${JSON.stringify({ ok: results.length - failures.length, failures, elapsedMs })}\n`,
);
await limiter.close();
await client.close();
