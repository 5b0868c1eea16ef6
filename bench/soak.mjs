// Soak: 200 000 calls at concurrency 64 through [retry, concurrencyLimit, rateLimit, expectStatus,
// undiciTransport] against a flaky upstream in its own process; checks nothing is lost or leaked.
// Then bodies cut mid-read under timeout() on both transports, heap after GC (issue 12 #1).
// Not part of CI. Usage: node --expose-gc bench/soak.mjs [--calls 200000] [--concurrency 64]
//   [--truncated 6000] (0 skips the truncated-body part)
import { fork } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { createClient } from '@extapi/core';
import { concurrencyLimit, expectStatus, rateLimit, retry, timeout } from '@extapi/middleware';
import { parseArgs, positive } from './util.mjs';

const SELF = fileURLToPath(import.meta.url);
const BODY = Buffer.from(JSON.stringify({ id: 42, name: 'widget', ok: true }));
// Upstream behaviour per request: 10% 503, 2% reset, 1% stall (never answers), the rest 200.
const P_503 = 0.1;
const P_RESET = 0.02;
const P_STALL = 0.01;
// A stall is "past the timeout": the transport gives up on the headers after this long.
const HEADERS_TIMEOUT_MS = 300;
// The truncated part: heap growth after GC above this between its first and last sample fails.
const TRUNCATED_FLAT_MIB = 8;

/** The upstream, in its own process so that its work does not count against the client. */
function serve() {
  let open = 0;
  let peakOpen = 0;
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    req.resume();
    if (req.url === '/truncated') {
      // content-length 1000, 100 bytes sent, then a reset: the body is cut mid-read.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
      res.write(Buffer.alloc(100, 120), () => setImmediate(() => req.socket.resetAndDestroy()));
      return;
    }
    const r = Math.random();
    if (r < P_503) {
      res.writeHead(503, { 'content-type': 'text/plain', 'content-length': '4' });
      res.end('busy');
    } else if (r < P_503 + P_RESET) {
      req.socket.destroy();
    } else if (r < P_503 + P_RESET + P_STALL) {
      // Never answers; the client's deadline ends it (and closes the socket).
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
      res.end(BODY);
    }
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.maxRequestsPerSocket = 0;
  server.on('connection', (socket) => {
    peakOpen = Math.max(peakOpen, ++open);
    socket.once('close', () => open--);
  });
  process.on('message', (message) => {
    if (message.type === 'stats') process.send({ type: 'stats', open, peakOpen, served });
    if (message.type === 'stop') server.close(() => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => {
    process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}` });
  });
}

function ask(child, type) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message.type === type) {
        child.off('message', onMessage);
        resolve(message);
      }
    };
    child.on('message', onMessage);
    child.send({ type });
  });
}

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

function clientSockets() {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
}

/**
 * Bodies cut mid-read through timeout(), on each transport: heap after GC after a warm-up, halfway
 * and at the end. Every call must fail with a TransportError; the heap must stay flat.
 */
async function soakTruncated(url, calls, concurrency) {
  const rows = [];
  for (const [name, transport] of [
    ['undiciTransport', undiciTransport()],
    ['fetchTransport', fetchTransport()],
  ]) {
    const client = createClient([timeout({ ms: 10_000 }), transport], { baseUrl: url });
    const unexpected = new Map();
    let done = 0;
    const run = async (n) => {
      let left = n;
      const worker = async () => {
        while (left > 0) {
          left--;
          try {
            await (await client.get('/truncated')).text();
            unexpected.set('no error', (unexpected.get('no error') ?? 0) + 1);
          } catch (error) {
            if (error?.name !== 'TransportError') {
              const key = `${error?.name} ${error?.code ?? ''}`;
              unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
            }
          }
          done++;
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    };
    const heap = () => {
      globalThis.gc?.();
      globalThis.gc?.();
      return process.memoryUsage().heapUsed;
    };
    await run(Math.min(500, calls));
    const start = heap();
    await run(calls / 2);
    const middle = heap();
    await run(calls / 2);
    const end = heap();
    await client.close();
    rows.push({ name, calls: done, start, middle, end, unexpected });
  }
  return rows;
}

async function soak() {
  const options = parseArgs(process.argv.slice(2));
  const total = positive(options, 'calls', 200_000);
  const concurrency = positive(options, 'concurrency', 64);
  const truncatedCalls = options.truncated === '0' ? 0 : positive(options, 'truncated', 6_000);
  const child = fork(SELF, ['--server'], { stdio: 'inherit' });
  const { url } = await new Promise((resolve) => child.once('message', resolve));

  const transport = undiciTransport({
    connections: concurrency,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
  });
  const slots = concurrencyLimit({ max: concurrency });
  const client = createClient(
    [
      retry({ backoff: { baseMs: 5, maxMs: 50 } }),
      slots,
      rateLimit({ limit: 1_000_000, windowMs: 1_000 }),
      expectStatus([200]),
      transport,
    ],
    { baseUrl: url, timeoutMs: 10_000 },
  );

  const memory = [];
  const sample = (label) => {
    globalThis.gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    memory.push({ label, heapUsed, rss });
  };

  let issued = 0;
  let succeeded = 0;
  let failed = 0;
  const errors = new Map();
  let peakSockets = 0;
  const sampler = setInterval(() => {
    peakSockets = Math.max(peakSockets, clientSockets());
  }, 50);

  // Warm-up: connections made and code optimised before the "start" sample.
  await Promise.all(
    Array.from({ length: concurrency }, () =>
      client.get('/items/42').then(
        (res) => res.text(),
        () => {},
      ),
    ),
  );
  sample('start');
  let middleTaken = false;

  const started = performance.now();
  async function worker() {
    while (issued < total) {
      issued++;
      try {
        const res = await client.get('/items/42', { pathTemplate: '/items/:id' });
        await res.text();
        succeeded++;
      } catch (error) {
        failed++;
        // retry() rethrows the last attempt's own error, with how many attempts the call made.
        const attempts = error?.attempts > 1 ? ` after ${error.attempts} attempts` : '';
        const status = error?.status ? ` ${error.status}` : '';
        const key = `${error?.name ?? typeof error} ${error?.code ?? ''}${status}${attempts}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
      if (!middleTaken && succeeded + failed >= total / 2) {
        middleTaken = true;
        sample('middle');
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  sample('end');
  const upstream = await ask(child, 'stats');
  await client.close();
  await slots.close();
  const truncated = truncatedCalls ? await soakTruncated(url, truncatedCalls, 16) : [];
  child.send({ type: 'stop' });

  const accounted = succeeded + failed === issued;
  console.log(
    `soak: ${new Date().toISOString()} on ${os.cpus()[0]?.model} ×${os.cpus().length}, node ${process.version}`,
  );
  console.log(
    `calls: issued ${issued}, succeeded ${succeeded}, failed ${failed} → ${accounted ? 'all accounted for' : 'MISMATCH'}`,
  );
  console.log(
    `rate: ${(issued / seconds).toFixed(0)} calls/s over ${seconds.toFixed(1)} s (concurrency ${concurrency})`,
  );
  console.log(
    `upstream: ${upstream.served} requests served, peak ${upstream.peakOpen} open sockets`,
  );
  console.log(`client: peak ${peakSockets} open sockets (pool ${concurrency})`);
  console.log('errors by class:');
  for (const [key, count] of [...errors].sort((a, b) => b[1] - a[1]))
    console.log(`  ${key}: ${count}`);
  console.log('memory (after gc when --expose-gc):');
  for (const { label, heapUsed, rss } of memory) {
    console.log(`  ${label.padEnd(6)} heap ${mb(heapUsed)} MiB, rss ${mb(rss)} MiB`);
  }
  let leaked = false;
  if (truncated.length > 0) {
    console.log('bodies cut mid-read under timeout() (content-length 1000, 100 bytes, reset):');
  }
  for (const { name, calls, start, middle, end, unexpected } of truncated) {
    const growth = (end - start) / 1024 / 1024;
    leaked ||= growth > TRUNCATED_FLAT_MIB || unexpected.size > 0;
    const odd = [...unexpected].map(([key, count]) => `${key} ×${count}`).join(', ');
    console.log(
      `  ${name.padEnd(15)} ${calls} calls: heap after gc ${mb(start)} → ${mb(middle)} → ${mb(end)} MiB` +
        ` (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB, ${((end - start) / 1024 / (calls - Math.min(500, calls))).toFixed(2)} KiB/call)` +
        `${odd ? `; not TransportError: ${odd}` : ''}`,
    );
  }
  if (!globalThis.gc) console.log('  (run with --expose-gc for heap figures after gc)');
  if (!accounted || peakSockets > concurrency || leaked) process.exitCode = 1;
}

if (process.argv.includes('--server')) serve();
else await soak();
