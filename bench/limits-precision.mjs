// The rate-limit precision run, measured where the partner counts: a node:http server in its own
// process records when each request arrives, while 1, 3 or 8 client processes drive one shared
// rateLimit (local for one process; Redis, REDIS_URL, for all). The grant-side figures (stamped in
// the clients just after the limiter lets a call go) stand beside the server's. Run alone or from run.mjs.
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { benchEntry } from './harness.mjs';
import { forkOn, machine, table } from './util.mjs';

// Enough callers in flight per process that the limiter, never the callers, sets the pace.
const CONCURRENCY = 16;
const CASE = { limit: 100, windowMs: 1000, durationMs: 5000 };
const FLEETS = [1, 3, 8];

const now = () => performance.timeOrigin + performance.now();
const SELF = fileURLToPath(import.meta.url);

async function importLimits() {
  for (const specifier of ['@extapi/middleware', '@extapi/middleware/limits']) {
    try {
      const mod = await import(specifier);
      if (typeof mod.rateLimit === 'function') return mod;
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND' && error?.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED')
        throw error;
    }
  }
  return undefined;
}

// The server process: records every arrival (epoch ms), and how long after its grant it came (the
// client stamps the grant in `x-grant`), and answers 204 at once.
function serve() {
  const arrivals = [];
  const delays = [];
  const server = http.createServer((req, res) => {
    if (req.url !== '/warm') {
      const at = now();
      arrivals.push(at);
      delays.push(at - Number(req.headers['x-grant']));
    }
    res.writeHead(204).end();
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ type: 'port', port: server.address().port }));
  process.on('message', (message) => {
    if (message === 'report') {
      process.send({ type: 'arrivals', arrivals, delays }, () => server.close(() => process.exit(0)));
    }
  });
}

// A client process: callers drive one rateLimit (shared through Redis when given) for durationMs.
async function drive({ limit, windowMs, durationMs, redisUrl, id, url }) {
  const core = await import('@extapi/core');
  const { undiciTransport } = await import('@extapi/backend-undici');
  const limits = await importLimits();
  // The warm-up request goes through the limiter under a key of its own: it opens the HTTP
  // connection and Redis's, and loads the script, so the run measures pacing, not a cold start
  // (deliveryJitterMs covers the spread of delays, not a connect).
  const key = (ctx) => (ctx.request.url.pathname === '/warm' ? 'warm' : 'calls');
  const options = redisUrl ? { limit, windowMs, redis: redisUrl, id, key } : { limit, windowMs, key };
  const grants = [];
  const stamp = (ctx, next) => {
    if (ctx.request.url.pathname !== '/warm') {
      const at = now();
      grants.push(at);
      ctx.request.headers.set('x-grant', String(at));
    }
    return next(ctx);
  };
  const limiter = limits.rateLimit(options);
  const client = core.createClient([limiter, stamp, undiciTransport()]);
  await client.get(`${url}/warm`);
  // Every client of the fleet is warm before any starts: the parent then names the instant.
  const startAt = await new Promise((resolve) => {
    process.once('message', (m) => resolve(m.startAt));
    process.send({ type: 'ready' });
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - now())));
  const end = startAt + durationMs;
  async function caller() {
    while (now() < end) await client.get(`${url}/x`);
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  await limiter.close?.();
  await client.close();
  return grants;
}

// The most events inside any window of `windowMs` (a sliding window over sorted times).
function maxInWindow(times, windowMs) {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

function row(label, { limit, windowMs, durationMs }, startAt, { arrivals, delays }, grants) {
  const sortedArrivals = arrivals.filter((t) => t >= startAt).sort((a, b) => a - b);
  const sortedGrants = grants.filter((t) => t < startAt + durationMs).sort((a, b) => a - b);
  const allowed = (limit / windowMs) * 1000;
  // Arrivals of the calls granted in the run (those later went out after callers stopped asking).
  const counted = sortedArrivals.slice(0, sortedGrants.length);
  const achieved = (counted.length / durationMs) * 1000;
  const serverPeak = maxInWindow(sortedArrivals, windowMs);
  const grantPeak = maxInWindow(sortedGrants, windowMs);
  // How far apart the delays from grant to arrival spread: the limiter's bound holds at the server
  // while this stays within deliveryJitterMs.
  const spread = Math.max(...delays) - Math.min(...delays);
  return [
    label,
    `${limit} / ${windowMs} ms`,
    `${achieved.toFixed(1)}/s`,
    `${(achieved / allowed).toFixed(3)}`,
    `${serverPeak}${serverPeak > limit ? ` EXCEEDED by ${serverPeak - limit}` : ' held'}`,
    `${grantPeak}`,
    `${spread.toFixed(1)} ms`,
  ];
}

// Whether a Redis answers PING at `url`, checked without any client library.
function redisReachable(url) {
  return new Promise((resolve) => {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      return resolve(false);
    }
    const socket = net.connect(Number(parsed.port || 6379), parsed.hostname);
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

// One measured run: a fresh server process, `processes` clients starting together.
async function measure(label, processes, redisUrl) {
  const server = forkOn(undefined, SELF, ['--server'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve) =>
    server.on('message', (m) => m.type === 'port' && resolve(m.port)),
  );
  const url = `http://127.0.0.1:${port}`;
  const id = `extapi-bench:${process.pid}:${processes}:${Date.now()}`;
  const clients = Array.from({ length: processes }, () => {
    const child = forkOn(undefined, SELF, ['--child'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise((resolve) =>
      child.on('message', (m) => m.type === 'ready' && resolve()),
    );
    const result = new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.type === 'result') resolve(m.result);
        if (m.type === 'error') reject(new Error(m.error));
      });
    });
    child.send({ ...CASE, redisUrl, id, url });
    return { child, ready, result };
  });
  await Promise.all(clients.map((c) => c.ready));
  // All start driving at the same instant, a little ahead so every process has the message.
  const startAt = now() + 200;
  for (const { child } of clients) child.send({ startAt });
  const parts = await Promise.all(clients.map((c) => c.result));
  const seen = await new Promise((resolve) => {
    server.on('message', (m) => m.type === 'arrivals' && resolve(m));
    server.send('report');
  });
  return row(label, CASE, startAt, seen, parts.flat());
}

async function main() {
  console.log(
    `rate-limit precision at the server: ${CONCURRENCY} callers per client process, undiciTransport to a node:http server in its own process`,
  );
  console.log(`machine: ${machine()}`);
  if (!(await importLimits())) {
    console.log('n/a (not built): @extapi/middleware has no rateLimit export yet');
    return;
  }
  const lines = [await measure('local, 1 process', 1, undefined)];
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let skipped;
  if (!(await redisReachable(redisUrl))) {
    skipped = `Redis: skipped, no Redis answered PING at ${redisUrl} (set REDIS_URL to run it)`;
  } else {
    for (const n of FLEETS)
      lines.push(await measure(`redis, ${n} process${n > 1 ? 'es' : ''}`, n, redisUrl));
  }
  console.log(
    `\n${table(['limiter', 'limit', 'achieved at server', 'achieved/allowed', 'max in any window at server', 'at the limiter', 'grant-to-arrival spread'], lines)}`,
  );
  console.log(
    'deliveryJitterMs is the default (25 ms): the steady rate is limit per windowMs + 25 ms (0.976 of allowed).',
  );
  if (skipped) console.log(skipped);
}

// The arrival-recording server has its own entry; a client (`--child`) answers through benchEntry.
if (process.argv.includes('--server')) serve();
else benchEntry(main, drive);
