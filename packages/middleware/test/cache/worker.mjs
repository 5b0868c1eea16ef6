// A worker process for the cache fleet test: imports the built packages, makes one GET through a
// cache on the shared Redis, and prints the cache status and the body as one JSON line.
// Usage: node worker.mjs '<json config>'
import { createClient } from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import { cache } from '../../dist/cache.js';

const config = JSON.parse(process.argv[2]);
const middleware = cache({ redis: config.redis, id: config.id });
const client = createClient([middleware, undiciTransport()]);
const res = await client.get(config.url);
const body = await res.text();
process.stdout.write(`${JSON.stringify({ cache: res.headers.get('x-extapi-cache'), body })}\n`);
await middleware.close();
await client.close();
