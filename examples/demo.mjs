// The README's demo: a tour of the client against the embedded local API (no internet needed).
// Each step builds a small stack, makes real HTTP calls, and prints one line: the stack (as
// client.describe() names it), what happened, and why. `npm run demo` from the repository root.
import { createServer } from 'node:net';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  createClient,
  isCircuitOpenError,
  isHttpStatusError,
  isTimeoutError,
  isTransportError,
} from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import {
  bearerAuth,
  circuitBreaker,
  concurrencyLimit,
  dedupe,
  expectStatus,
  hedge,
  logging,
  rateLimit,
  retry,
  timeout,
} from '@extapi/middleware';
import { cache } from '@extapi/middleware/cache';
import { openTelemetry } from '@extapi/middleware/opentelemetry';
import { prometheusMetrics } from '@extapi/middleware/prometheus';
import { Registry } from 'prom-client';
import { startDemoServer } from './demo-server.mjs';

const api = await startDemoServer();
const quickRetry = { backoff: { baseMs: 50, maxMs: 200 } }; // short waits, so the tour is quick
let n = 0;

/** Prints one step: `n. [stack] what: why` (every stack ends in undiciTransport, left out). */
function say(client, what, why) {
  const names = client.describe().slice(0, -1);
  const stack = names.length ? names.join(' → ') : 'the transport alone';
  console.log(`${String(++n).padStart(2)}. [${stack}] ${what}: ${why}`);
}

/** A client on the demo API; closed after `use` returns. */
async function withClient(stack, use, options = {}) {
  const client = createClient([...stack, undiciTransport()], { baseUrl: api.url, ...options });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

const since = (start) => `${Math.round(performance.now() - start)} ms`;
const served = () => api.stats.requests;

console.log(`extapi demo: a local partner API on ${api.url}, real HTTP on every call.`);
console.log('Each line: [the stack, outside-in, before undiciTransport()] what happened: why.\n');
try {
  await withClient([expectStatus([200])], async (client) => {
    const start = performance.now();
    const item = await (await client.get('/items/1', { pathTemplate: '/items/:id' })).json();
    say(
      client,
      `GET /items/1 → 200 ${JSON.stringify(item)} in ${since(start)}`,
      'middleware in an array, the transport last',
    );
  });

  let waited = [];
  const onRetry = ({ delayMs, reason }) => waited.push(`${reason}, waited ${delayMs} ms`);
  await withClient([retry({ ...quickRetry, onRetry }), expectStatus([200])], async (client) => {
    const res = await client.get('/flaky/demo', { pathTemplate: '/flaky/:key' });
    say(
      client,
      `GET /flaky/demo → ${res.status} after ${waited.length + 1} attempts (${waited[0]})`,
      'a 503 is retried after a backoff with jitter',
    );
  });

  waited = [];
  await withClient([retry({ ...quickRetry, onRetry }), expectStatus([200])], async (client) => {
    const start = performance.now();
    const res = await client.get('/busy/demo', { pathTemplate: '/busy/:key' });
    say(
      client,
      `GET /busy/demo → ${res.status} in ${since(start)} (${waited[0]})`,
      'the 429 said Retry-After: 1 and retry() waits that long',
    );
  });

  let refreshes = 0;
  const getToken = async ({ refresh }) => {
    if (!refresh) return 'stale-token'; // the server no longer accepts it
    refreshes++;
    return 'fresh-token';
  };
  await withClient([expectStatus([200]), bearerAuth(getToken)], async (client) => {
    const res = await client.get('/secure', { pathTemplate: '/secure' });
    say(
      client,
      `GET /secure → ${res.status} after ${refreshes} token refresh`,
      'the cached token got a 401; one refresh, one re-send',
    );
  });

  waited = [];
  await withClient(
    [retry({ ...quickRetry, onRetry, idempotencyKey: true }), expectStatus([201])],
    async (client) => {
      const res = await client.post('/orders', { json: { sku: 'tea' }, pathTemplate: '/orders' });
      const order = await res.json();
      say(
        client,
        `POST /orders → ${res.status} order #${order.id} after ${waited.length + 1} attempts, ${api.stats.orders} order in all`,
        'a POST is retried after a 500 only with an Idempotency-Key (the server dedupes by it)',
      );
    },
  );

  const hedges = [];
  await withClient(
    [
      retry(quickRetry),
      hedge({ delayMs: 50, onHedge: ({ hedge }) => hedges.push(hedge) }),
      expectStatus([200]),
    ],
    async (client) => {
      const before = served();
      const res = await client.get('/stuck/demo', { pathTemplate: '/stuck/:key' });
      say(
        client,
        `GET /stuck/demo → ${res.status} after ${hedges.length} hedge, ${served() - before} requests`,
        'the first got no answer in 50 ms; a copy answered and the stuck one was aborted',
      );
    },
  );

  await withClient(
    [rateLimit({ limit: 10, windowMs: 1_000 }), expectStatus([200])],
    async (client) => {
      const start = performance.now();
      const calls = Array.from({ length: 20 }, (_, i) =>
        client.get(`/items/${i}`, { pathTemplate: '/items/:id' }),
      );
      await Promise.all(calls);
      say(
        client,
        `20 GETs at { limit: 10, windowMs: 1000 } → all 200 in ${since(start)}`,
        'starts are spread evenly, about one per 100 ms, not 10 at once',
      );
    },
  );

  await withClient([concurrencyLimit({ max: 3 }), expectStatus([200])], async (client) => {
    api.stats.maxInFlight = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 12 }, () => client.get('/slow?ms=100', { pathTemplate: '/slow' })),
    );
    say(
      client,
      `12 GETs of 100 ms at { max: 3 } → at most ${api.stats.maxInFlight} at once at the server, ${since(start)}`,
      'each call waits for one of 3 slots',
    );
  });

  await withClient([dedupe(), retry(quickRetry), expectStatus([200])], async (client) => {
    const before = served();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => client.get('/slow?ms=50', { pathTemplate: '/slow' })),
    );
    say(
      client,
      `50 identical GETs at once → ${served() - before} request at the server, ${new Set(responses).size} responses`,
      'identical concurrent GETs share one request; each caller gets its own copy',
    );
  });

  await withClient([circuitBreaker({ minimumCalls: 5, openMs: 10_000 })], async (client) => {
    const before = served();
    let failedFast = 0;
    for (let i = 0; i < 10; i++) {
      await client.get('/down', { pathTemplate: '/down' }).catch((error) => {
        if (!isCircuitOpenError(error)) throw error;
        failedFast++;
      });
    }
    say(
      client,
      `10 GETs of /down → ${served() - before} got a 500, ${failedFast} failed fast (CircuitOpenError)`,
      '5 calls, all failed: the circuit opened for 10 s',
    );
  });

  await withClient([cache(), retry(quickRetry), expectStatus([200])], async (client) => {
    const before = served();
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const res = await client.get('/catalog', { pathTemplate: '/catalog' });
      answers.push(res.headers.get('x-extapi-cache'));
    }
    say(
      client,
      `3 GETs of /catalog → ${answers.join(', ')}; the server saw ${served() - before}`,
      'max-age=60: a fresh stored response answers above retry(), nothing is sent',
    );
  });

  await withClient([expectStatus([200])], async (client) => {
    const error = await client.get('/items/missing').catch((e) => e);
    if (!isHttpStatusError(error)) throw error;
    say(
      client,
      `GET /items/missing → HttpStatusError ${error.status}, body ${await error.response.text()}`,
      'any other status rejects; the body is already read',
    );
  });

  await withClient(
    [retry({ maxAttempts: 2, ...quickRetry }), timeout({ ms: 100 })],
    async (client) => {
      const error = await client.get('/slow?ms=1000', { pathTemplate: '/slow' }).catch((e) => e);
      if (!isTimeoutError(error)) throw error;
      say(
        client,
        `GET /slow?ms=1000 → TimeoutError (${error.phase}, ${error.timeoutMs} ms) after ${error.attempts} attempts`,
        'the per-attempt deadline fired each time',
      );
    },
  );

  const closedPort = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  await withClient(
    [],
    async (client) => {
      const error = await client.get(`http://127.0.0.1:${closedPort}/`).catch((e) => e);
      if (!isTransportError(error)) throw error;
      say(
        client,
        `GET on a closed port → TransportError ${error.code}`,
        'the same codes from both transports',
      );
    },
    { allowAbsoluteUrls: true },
  );

  const logLines = [];
  const log = (_fields, message) => logLines.push(message);
  const logger = { debug: log, info: log, warn: log, error: log };
  await withClient(
    [logging({ logger }), retry({ ...quickRetry, logger }), expectStatus([200])],
    async (client) => {
      await client.get('/flaky/logging', {
        pathTemplate: '/flaky/:key',
        query: { token: 's3cret' },
      });
      say(
        client,
        `GET /flaky/logging?token=s3cret → ${logLines.length} log lines`,
        'the call once, each retry once; secrets redacted',
      );
      for (const line of logLines) console.log(`      log: ${line}`);
    },
  );

  // The SDK as an application sets it up: spans to the console, and a context manager so that the
  // spans of a call's attempts are children of the span active where the call was made.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracer = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
  }).getTracer('extapi-demo');
  await withClient(
    [retry(quickRetry), expectStatus([200]), openTelemetry({ tracer, meter: false })],
    async (client) => {
      say(
        client,
        "GET /flaky/tracing in a span 'checkout' → 3 spans in one trace (the SDK's ConsoleSpanExporter prints them)",
        "below retry(), a CLIENT span per attempt, a child of the caller's span",
      );
      await tracer.startActiveSpan('checkout', async (span) => {
        await client.get('/flaky/tracing', { pathTemplate: '/flaky/:key' });
        span.end();
      });
    },
  );

  const above = new Registry();
  const below = new Registry();
  const limiter = rateLimit({ limit: 10, windowMs: 1_000 });
  const histogramSum = async (registry) =>
    Number(/_request_duration_seconds_sum\S* (\S+)/.exec(await registry.metrics())[1]).toFixed(3);
  await withClient(
    [
      prometheusMetrics({ registry: above }),
      limiter,
      prometheusMetrics({ registry: below }),
      expectStatus([200]),
    ],
    async (client) => {
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          client.get(`/items/${i}`, { pathTemplate: '/items/:id' }),
        ),
      );
      say(
        client,
        `5 GETs → duration sum ${await histogramSum(above)} s above rateLimit, ${await histogramSum(below)} s below`,
        'below the limits it times the partner, not the queue',
      );
    },
  );

  await withClient([retry(quickRetry), expectStatus([200])], async (client) => {
    const before = served();
    const ids = [];
    const items = client.paginate('/pages', {
      items: async (res) => (await res.json()).items,
      pathTemplate: '/pages',
    });
    for await (const item of items) ids.push(item.id);
    say(
      client,
      `client.paginate('/pages') → items ${ids.join(', ')} from ${served() - before} pages`,
      'each page one call through the stack, the next one from Link: rel="next"',
    );
  });

  await withClient([expectStatus([200])], async (client) => {
    const reports = [];
    const res = await client.get('/download', {
      query: { bytes: 4 * 1024 * 1024 },
      pathTemplate: '/download',
      onDownloadProgress: ({ percent }) => reports.push(Math.round(percent ?? 0)),
    });
    const size = (await res.bytes()).length;
    say(
      client,
      `GET /download → ${size / 1048576} MiB; onDownloadProgress: ${reports.join(' ')} %`,
      'at most every 50 ms, and once at the end',
    );
  });

  console.log(`\nThe local API answered ${served()} requests. Every step is in examples/demo.mjs.`);
} finally {
  await api.close();
}
