// One process of a fleet for the partner-view tests (forked with an IPC channel): builds its stack
// from the built packages, waits for 'go', sends its calls at the test server and reports back the
// instant each call was let through (epoch ms), when each start Redis granted was asked and answered,
// and how each call ended.
// Config (the first message): { redis?: url, cluster?: 'host:port,…', id, stack: ['concurrency' |
// 'rate', …] outside-in, limit, windowMs, deliveryJitterMs?, max?, calls, url, name }.
import { createClient } from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Cluster, Redis } from 'ioredis';
import { concurrencyLimit, rateLimit } from '../../dist/limits.js';

const epoch = () => performance.timeOrigin + performance.now();

const config = await new Promise((resolve) => process.once('message', resolve));
let cluster;
if (config.cluster) {
  const { parseClusterNodes } = await import('@extapi/core/testing');
  // The same options as CLUSTER_OPTIONS in cluster-client.ts (a .mjs cannot import the .ts).
  cluster = new Cluster(parseClusterNodes(config.cluster), {
    enableOfflineQueue: false,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    slotsRefreshTimeout: 1000,
    clusterRetryStrategy: (times) => Math.min(times * 100, 500),
    redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 1000 },
  });
  cluster.on('error', () => {});
}
// Every start Redis grants, bracketed on this process's clock: sent before Redis read its TIME,
// answered after. The limiter's bound is checked on these, not on the stamps below, which trail a
// grant by however long a loaded machine keeps Redis's answer from this process.
const takes = [];
const scripted = cluster ?? (config.redis ? Redis.prototype : undefined);
if (scripted) {
  for (const command of ['evalsha', 'eval']) {
    const run = scripted[command];
    scripted[command] = async function (...args) {
      const sent = epoch();
      const result = await run.apply(this, args);
      if (String(args[2]).startsWith('extapi:rate:') && args[4] === 'take' && result === 0)
        takes.push({ sent, answered: epoch() });
      return result;
    };
  }
}
const redis = cluster ?? config.redis;
const shared = redis === undefined ? {} : { redis, id: config.id };
const limiters = config.stack.map((kind) =>
  kind === 'concurrency'
    ? concurrencyLimit({ max: config.max, ...shared })
    : rateLimit({
        limit: config.limit,
        windowMs: config.windowMs,
        deliveryJitterMs: config.deliveryJitterMs,
        ...shared,
      }),
);
const grants = [];
// Innermost before the transport: the instant the stack let the call go.
const stamp = (ctx, next) => {
  grants.push({ at: epoch(), url: `${ctx.request.url.pathname}${ctx.request.url.search}` });
  return next(ctx);
};
const transport = undiciTransport();
const client = createClient([...limiters, stamp, transport]);

// One request outside the limits first, on the same connection pool: a process's first request
// also opens a connection and loads the HTTP parser (30-40 ms here), a delay the limiter's
// deliveryJitterMs (25 ms) is not meant to cover. The test leaves /warm out of its counts.
if (config.warm !== false) await createClient([transport]).get(`${config.url}/warm`);
// A client to time Redis's answers during the run (a starved redis-server delays every grant
// too), connected before the run so that no connection setup counts.
const pinger = cluster ?? (config.redis ? new Redis(config.redis) : undefined);
pinger?.on('error', () => {});
if (cluster && cluster.status !== 'ready')
  await new Promise((resolve) => cluster.once('ready', resolve));
await pinger?.ping();
process.send({ type: 'ready' });
await new Promise((resolve) => process.once('message', resolve));
// How late this process ran its callbacks: a grant is stamped up to this long after Redis made it.
const lag = monitorEventLoopDelay({ resolution: 1 });
lag.enable();
let maxRttMs = 0;
const pinging = setInterval(async () => {
  const sent = performance.now();
  await pinger?.ping().catch(() => {});
  maxRttMs = Math.max(maxRttMs, performance.now() - sent);
}, 100);
const results = await Promise.allSettled(
  Array.from({ length: config.calls }, (_, i) =>
    client.get(`${config.url}/?w=${config.name}&i=${i}`).then((r) => r.text()),
  ),
);
lag.disable();
clearInterval(pinging);
if (pinger !== cluster) pinger?.disconnect();
const failures = results
  .filter((r) => r.status === 'rejected')
  .map((r) => String(r.reason?.message ?? r.reason));
for (const limiter of limiters) await limiter.close();
await client.close();
cluster?.disconnect();
process.send({ type: 'done', grants, takes, failures, maxLagMs: lag.max / 1e6, maxRttMs }, () =>
  process.disconnect(),
);
