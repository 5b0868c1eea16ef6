// The full-featured example: the recommended stack against a partner API, showing a retried 503,
// a 429 waited out, a refreshed token, a rate limit at work, a streamed download and the metrics.
// `node examples/full-featured.mjs` runs it against the local demo API (part of the examples' test).
import { pathToFileURL } from 'node:url';
import { createClient } from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import { bearerAuth, expectStatus, headers, rateLimit, retry, timeout } from '@extapi/middleware';
import { prometheusMetrics } from '@extapi/middleware/prometheus';
import { Registry } from 'prom-client';

/**
 * Builds the client the example uses. `say` receives one readable line per event.
 * @param {string} baseUrl
 * @param {(line: string) => void} say
 */
export function createPartnerClient(baseUrl, say) {
  const registry = new Registry();
  // The token source: a cached token that the server already considers expired, so the
  // first call that needs it gets a 401 and bearerAuth asks for a fresh one, once.
  let token = 'stale-token';
  const getToken = async ({ refresh }) => {
    if (refresh) {
      token = 'fresh-token';
      say('token refreshed after a 401');
    }
    return token;
  };
  const client = createClient(
    [
      timeout({ ms: 10_000 }), // once per call: the total deadline
      // Once per call, the old library's metric names; above rateLimit the duration includes the
      // wait for a start (the demo shows both placements side by side).
      prometheusMetrics({ registry }),
      retry({
        maxAttempts: 3,
        onRetry: ({ attempt, delayMs, reason, ctx }) =>
          say(
            `retry #${attempt} of ${ctx.request.method} ${ctx.request.url.pathname} after ${reason}, waiting ${delayMs} ms`,
          ),
      }),
      rateLimit({ limit: 10, windowMs: 1_000 }), // per attempt: at most 10 requests a second reach the server, spread evenly
      timeout({ ms: 2_000 }), // per attempt
      expectStatus([200]), // per attempt: a rejected 503 is still retried
      headers({ 'user-agent': 'extapi-demo/1.0' }), // per attempt
      bearerAuth(getToken), // per attempt, one shared refresh on 401
      undiciTransport({ maxResponseBytes: 10 * 1024 * 1024 }),
    ],
    { baseUrl },
  );
  return { client, registry };
}

/**
 * Runs the example against `baseUrl` and returns the Prometheus exposition of its calls.
 * @param {string} baseUrl
 * @param {(line: string) => void} say
 */
export async function runFullFeatured(baseUrl, say) {
  const { client, registry } = createPartnerClient(baseUrl, say);
  try {
    let started = performance.now();
    const item = await (await client.get('/items/1', { pathTemplate: '/items/:id' })).json();
    say(`GET /items/1 → ${JSON.stringify(item)}`);

    started = performance.now();
    const flaky = await client.get('/flaky/demo', { pathTemplate: '/flaky/:key' });
    say(`GET /flaky/demo → ${flaky.status} after a retried 503 (${ms(started)})`);

    started = performance.now();
    const busy = await client.get('/busy/demo', { pathTemplate: '/busy/:key' });
    say(
      `GET /busy/demo → ${busy.status} after waiting out a 429 with Retry-After: 1 (${ms(started)})`,
    );

    const secure = await (await client.get('/secure', { pathTemplate: '/secure' })).json();
    say(`GET /secure → ${JSON.stringify(secure)}`);

    started = performance.now();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.get(`/items/${i}`, { pathTemplate: '/items/:id' }),
      ),
    );
    say(
      `20 calls through rateLimit({ limit: 10, windowMs: 1000 }) took ${ms(started)} (one start every ~100 ms)`,
    );

    started = performance.now();
    let bar = '';
    const download = await client.get('/download', {
      query: { bytes: 4 * 1024 * 1024 },
      pathTemplate: '/download',
      onDownloadProgress: ({ transferredBytes, percent }) => {
        const filled = Math.round((percent ?? 0) / 5);
        bar = `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${(transferredBytes / 1048576).toFixed(1)} MiB`;
        if (process.stdout.isTTY) process.stdout.write(`\r  ${bar}`);
      },
    });
    if (process.stdout.isTTY) process.stdout.write('\n');
    say(`GET /download → ${(await download.bytes()).length} bytes ${bar} (${ms(started)})`);

    return await registry.metrics();
  } finally {
    await client.close();
  }
}

function ms(started) {
  return `${Math.round(performance.now() - started)} ms`;
}

// Run directly: against the local demo API, printing each event and the counters.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { startDemoServer } = await import('./demo-server.mjs');
  const api = await startDemoServer();
  try {
    const metrics = await runFullFeatured(api.url, (line) => console.log(line));
    for (const line of metrics.split('\n')) if (line.includes('_total{')) console.log(line);
  } finally {
    await api.close();
  }
}
