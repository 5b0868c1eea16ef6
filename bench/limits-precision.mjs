// The rate-limit precision run: achieved start rate vs the configured limit, for a local rateLimit
// and for a Redis one shared by two processes (REDIS_URL). Run alone or from run.mjs.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { benchEntry, runSelf } from './harness.mjs';
import { machine, table } from './util.mjs';

// Enough callers in flight that the limiter, never the callers, sets the pace.
const CONCURRENCY = 64;
const CASES = [
  { limit: 100, windowMs: 1000, durationMs: 4000 },
  { limit: 10, windowMs: 100, durationMs: 2000 },
];
const REDIS_PROCESSES = 2;
const JITTER_MS = 5;

const now = () => performance.timeOrigin + performance.now();

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

// Answers at once with a constant response, so the limiter is the only thing that paces calls.
async function constantTransport(core) {
  return core.defineTransport(
    async (ctx) =>
      core.createResponse({
        status: 204,
        statusText: 'No Content',
        headers: new Headers(),
        url: ctx.request.url.href,
        method: ctx.request.method,
        body: null,
      }),
    { name: 'constant' },
  );
}

// Runs callers against one rateLimit for `durationMs`; returns every start time (epoch ms).
async function drive({ limit, windowMs, durationMs, redisUrl, key }) {
  const core = await import('@extapi/core');
  const limits = await importLimits();
  // With a redis:// URL the limiter opens (and on close() closes) its own ioredis client; every
  // process that uses the same `id` shares one limit.
  const options = redisUrl ? { limit, windowMs, redis: redisUrl, id: key } : { limit, windowMs };
  const starts = [];
  const stamp = (_ctx, next) => {
    starts.push(now());
    return next();
  };
  const limiter = limits.rateLimit(options);
  const client = core.createClient([limiter, stamp, await constantTransport(core)]);
  const end = now() + durationMs;
  // Callers stop asking at `end`; calls still queued then start later and are not counted.
  async function caller() {
    while (now() < end) await client.get('http://limits.invalid/x');
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  await client.close();
  await limiter.close?.();
  return starts.filter((t) => t < end);
}

// The most starts inside any window of `windowMs` (a sliding window over the sorted start times).
function maxInWindow(starts, windowMs) {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < starts.length; hi++) {
    while (starts[hi] - starts[lo] >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

function row(label, { limit, windowMs, durationMs }, starts) {
  starts.sort((a, b) => a - b);
  const allowed = (limit / windowMs) * 1000;
  const achieved = (starts.length / durationMs) * 1000;
  const peak = maxInWindow(starts, windowMs);
  // Starts are stamped just after the limiter lets them go, so an event-loop delay of a stamp can
  // make two starts look closer than the limiter saw them; a window JITTER_MS shorter tells that apart.
  const inner = maxInWindow(starts, windowMs - JITTER_MS);
  return [
    label,
    `${limit} / ${windowMs} ms`,
    `${allowed.toFixed(0)}/s`,
    `${achieved.toFixed(1)}/s`,
    `${(achieved / allowed).toFixed(3)}`,
    `${peak}`,
    peak <= limit
      ? 'held'
      : inner <= limit
        ? `held (${peak} only across a window ${JITTER_MS} ms longer: stamp jitter)`
        : `EXCEEDED by ${inner - limit}`,
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
    // -NOAUTH also proves a Redis is there; the limiter's own connection will report auth errors.
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

const inChild = (message) => runSelf(import.meta.url, message);

async function main() {
  console.log(
    `rate-limit precision: ${CONCURRENCY} callers per process, constant in-process transport`,
  );
  console.log(`machine: ${machine()}`);
  if (!(await importLimits())) {
    console.log('n/a (not built): @extapi/middleware has no rateLimit export yet');
    return;
  }
  const lines = [];
  for (const c of CASES) lines.push(row('local', c, await drive(c)));

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let skipped;
  if (!(await redisReachable(redisUrl))) {
    skipped = `Redis: skipped, no Redis answered PING at ${redisUrl} (set REDIS_URL to run it)`;
  } else {
    for (const c of CASES) {
      // One key per case and run, so earlier runs' counts never leak in.
      const key = `extapi-bench:${process.pid}:${c.limit}:${c.windowMs}:${Date.now()}`;
      const parts = await Promise.all(
        Array.from({ length: REDIS_PROCESSES }, () => inChild({ ...c, redisUrl, key })),
      );
      lines.push(row(`redis, ${REDIS_PROCESSES} processes`, c, parts.flat()));
    }
  }
  console.log(
    `\n${table(['limiter', 'limit', 'allowed', 'achieved', 'achieved/allowed', 'max in any window', ''], lines)}`,
  );
  if (skipped) console.log(skipped);
}

benchEntry(main, drive);
