// The benchmark's rows: each one builds a client and gives back one `call()` that makes a GET and
// reads the whole body. client.mjs runs one row per process; run.mjs and ablation.mjs print them.
import http from 'node:http';

/** Thrown when a row's package or export is not built yet: the row prints "n/a (not built)". */
export class NotBuiltError extends Error {
  code = 'NOT_BUILT';
}

// Imports `names` from a public entry point, or throws NotBuiltError naming what is missing.
async function need(specifier, ...names) {
  let mod;
  try {
    mod = await import(specifier);
  } catch (cause) {
    if (
      cause?.code === 'ERR_MODULE_NOT_FOUND' ||
      cause?.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' ||
      cause?.code === 'ERR_UNSUPPORTED_DIR_IMPORT'
    ) {
      throw new NotBuiltError(`${specifier} is not built`, { cause });
    }
    throw cause;
  }
  return names.map((name) => {
    if (typeof mod[name] !== 'function')
      throw new NotBuiltError(`${specifier} has no export ${name}`);
    return mod[name];
  });
}

// The first of several entry points that exports `name` (limits may live in the root or a subpath).
async function needFrom(specifiers, name) {
  let last;
  for (const specifier of specifiers) {
    try {
      return (await need(specifier, name))[0];
    } catch (error) {
      if (!(error instanceof NotBuiltError)) throw error;
      last = error;
    }
  }
  throw last;
}

// An extapi client on `stack`: GET the URL and read the body as text, as every other row does.
async function extapiRow(url, makeStack, options = undefined) {
  const [createClient] = await need('@extapi/core', 'createClient');
  const client = createClient(await makeStack());
  return {
    call: async () => {
      const res = await client.get(url, options);
      await res.text();
    },
    close: () => client.close(),
  };
}

async function undiciStack(...middleware) {
  const [undiciTransport] = await need('@extapi/backend-undici', 'undiciTransport');
  return [...middleware, undiciTransport()];
}

// An exporter that drops every span: the SDK's own cost (span objects, processor, ids) without I/O.
const noopExporter = {
  export(_spans, done) {
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve(),
};

// Metrics and spans are labelled by route, as production code calls them.
const OBSERVED = { pathTemplate: '/items/:id' };

// A logger at "silent" level: every method exists and does nothing, so logging() does all of its
// own work (redaction, field objects, timing) and only the write is skipped.
const SILENT_LOGGER = { debug() {}, info() {}, warn() {}, error() {} };

const LIMITS = ['@extapi/middleware', '@extapi/middleware/limits'];

// One factory per middleware, each with the settings the bench uses everywhere (limits so high they
// never wait, a breaker that never opens, no OpenTelemetry SDK unless a row installs one).
const MAKE = {
  headers: async () => (await need('@extapi/middleware', 'headers'))[0]({ 'x-a': '1' }),
  bearerAuth: async () => (await need('@extapi/middleware', 'bearerAuth'))[0](() => 't'),
  basicAuth: async () =>
    (await need('@extapi/middleware', 'basicAuth'))[0]({ username: 'u', password: 'p' }),
  expectStatus: async () => (await need('@extapi/middleware', 'expectStatus'))[0]([200]),
  retry: async () => (await need('@extapi/middleware', 'retry'))[0](),
  // A GET is hedgeable: its timer is armed and cleared on every call, the hedge never sent.
  hedge: async () => (await need('@extapi/middleware', 'hedge'))[0]({ delayMs: 1_000 }),
  circuitBreaker: async () => (await need('@extapi/middleware', 'circuitBreaker'))[0](),
  rateLimit: async () => (await needFrom(LIMITS, 'rateLimit'))({ limit: 1e9, windowMs: 1000 }),
  concurrencyLimit: async () => (await needFrom(LIMITS, 'concurrencyLimit'))({ max: 64 }),
  timeout: async (ms = 10_000) => (await need('@extapi/middleware', 'timeout'))[0]({ ms }),
  logging: async () => (await need('@extapi/middleware', 'logging'))[0]({ logger: SILENT_LOGGER }),
  prometheusMetrics: async () => {
    const [prometheusMetrics] = await need('@extapi/middleware/prometheus', 'prometheusMetrics');
    const { Registry } = await import('prom-client');
    return prometheusMetrics({ registry: new Registry() });
  },
  openTelemetry: async () => (await need('@extapi/middleware/opentelemetry', 'openTelemetry'))[0](),
};

async function observabilityStack() {
  return undiciStack(await MAKE.openTelemetry(), await MAKE.prometheusMetrics());
}

// The root README's "recommended stack", in its order, with settings that never wait or refuse.
async function recommendedMiddleware() {
  return [
    await MAKE.logging(),
    await MAKE.timeout(10_000),
    await MAKE.prometheusMetrics(),
    await MAKE.circuitBreaker(),
    await MAKE.retry(),
    await MAKE.concurrencyLimit(),
    await MAKE.rateLimit(),
    await MAKE.openTelemetry(),
    await MAKE.timeout(2_000),
    await MAKE.expectStatus(),
    await MAKE.headers(),
    await MAKE.bearerAuth(),
  ];
}

async function recommendedStack() {
  return undiciStack(...(await recommendedMiddleware()));
}

/**
 * The ablation: each middleware alone, with the most CPU µs per call it may add (issue 13).
 * `ablation.mjs` runs each as a `mock-<id>` row (in process, on mockTransport) and a `wire-<id>` row
 * (with undiciTransport, against the bench server), against `mock-bare` and `wire-bare`.
 */
export const ABLATION = [
  ...[
    'headers',
    'bearerAuth',
    'basicAuth',
    'expectStatus',
    'retry',
    'circuitBreaker',
    'rateLimit',
    'concurrencyLimit',
    'timeout',
    'logging',
  ].map((id) => ({ id, maxUs: 1 })),
  { id: 'prometheusMetrics', maxUs: 3 },
  { id: 'openTelemetry', maxUs: 3 },
  // A race per hedgeable call: an abort scope, a clone, a promise and one timer set and cleared.
  { id: 'hedge', maxUs: 3 },
  // Not a middleware: all twelve at once, to show whether their costs add up or compound.
  { id: 'recommended', label: 'recommended stack (all 12)' },
];

// The middleware of one ablation entry: the recommended stack, or one middleware alone.
const ablated = async (id) => (id === 'recommended' ? recommendedMiddleware() : [await MAKE[id]()]);

const ANSWER_BODY = Buffer.from(JSON.stringify({ id: 42, name: 'widget', ok: true }));

// An extapi client on mockTransport (one canned 200), with `middleware` in front; no socket at all.
async function mockRow(url, middleware = []) {
  const [createClient] = await need('@extapi/core', 'createClient');
  const [mockTransport] = await need('@extapi/core/testing', 'mockTransport');
  const transport = mockTransport([
    { status: 200, headers: { 'content-type': 'application/json' }, body: ANSWER_BODY },
  ]);
  const client = createClient([...middleware, transport]);
  let calls = 0;
  return {
    call: async () => {
      const res = await client.get(url, OBSERVED);
      await res.text();
      // The mock records every request; forget them so the heap stays flat over a million calls.
      if (++calls % 64 === 0) transport.requests.length = 0;
    },
    close: () => client.close(),
  };
}

/** The ablation's rows: `mock-bare`, `wire-bare`, then `mock-<id>` and `wire-<id>` per middleware. */
export const ABLATION_ROWS = [
  { id: 'mock-bare', label: 'bare client, mockTransport', setup: (url) => mockRow(url) },
  {
    id: 'wire-bare',
    label: 'bare client, undiciTransport',
    setup: (url) => extapiRow(url, () => undiciStack(), OBSERVED),
  },
  ...ABLATION.flatMap(({ id }) => [
    {
      id: `mock-${id}`,
      label: `${id}, mockTransport`,
      setup: async (url) => mockRow(url, await ablated(id)),
    },
    {
      id: `wire-${id}`,
      label: `${id}, undiciTransport`,
      setup: (url) => extapiRow(url, async () => undiciStack(...(await ablated(id))), OBSERVED),
    },
  ]),
];

/** A raw undici Agent and the options of a GET of `url` on it (origin and path: no URL to parse per call). */
async function rawAgent(url) {
  const { Agent } = await import('undici');
  const { origin, pathname, search } = new URL(url);
  return {
    dispatcher: new Agent({ keepAliveTimeout: 60_000 }),
    options: { origin, path: pathname + search, method: 'GET' },
  };
}

/** A raw undici dispatch handler that collects a body and resolves with its text. */
export class TextHandler {
  constructor(resolve, reject) {
    this.resolve = resolve;
    this.reject = reject;
    this.chunks = [];
  }
  onConnect() {}
  onHeaders() {
    return true;
  }
  onData(chunk) {
    this.chunks.push(chunk);
    return true;
  }
  onComplete() {
    const { chunks } = this;
    this.resolve((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString());
  }
  onError(error) {
    this.reject(error);
  }
}

/**
 * Every row of the speed table, in print order. `baseline: true` marks the three raw undici rows:
 * every ratio is taken against the fastest of them in the same run (the tightest baseline).
 * `targets` are issue 13's: `{ vs, min }` is req/s at least `min`× row `vs` (`'baseline'` for the
 * tightest baseline), `{ cpuMax }` CPU per request at most `cpuMax`× the baseline's.
 */
export const ROWS = [
  {
    id: 'undici',
    label: 'undici.request (raw)',
    baseline: true,
    async setup(url) {
      const { request, Agent } = await import('undici');
      const dispatcher = new Agent({ keepAliveTimeout: 60_000 });
      return {
        call: async () => {
          const { body } = await request(url, { dispatcher });
          await body.text();
        },
        close: () => dispatcher.close(),
      };
    },
  },
  {
    // The same Agent API our transport calls (origin and path, no URL string to parse): the
    // tightest baseline for the transport; `undici.request(url)` adds its URL handling on top.
    id: 'undici-agent',
    label: 'undici Agent#request (raw)',
    baseline: true,
    async setup(url) {
      const { dispatcher, options } = await rawAgent(url);
      return {
        call: async () => {
          const { body } = await dispatcher.request(options);
          await body.text();
        },
        close: () => dispatcher.close(),
      };
    },
  },
  {
    // The API our transport calls since it left request(): the Agent's dispatch() with the least
    // handler that reads a body whole (collect the chunks, decode the text). No stream, no
    // AsyncResource: the cheapest raw undici call there is, so it may be the tightest baseline.
    id: 'undici-dispatch',
    label: 'undici Agent#dispatch (raw)',
    baseline: true,
    async setup(url) {
      const { dispatcher, options } = await rawAgent(url);
      return {
        call: () =>
          new Promise((resolve, reject) =>
            dispatcher.dispatch(options, new TextHandler(resolve, reject)),
          ),
        close: () => dispatcher.close(),
      };
    },
  },
  {
    id: 'extapi-undici',
    label: 'extapi + undiciTransport',
    targets: [{ vs: 'baseline', min: 0.95 }, { cpuMax: 1.1 }],
    setup: (url) => extapiRow(url, () => undiciStack()),
  },
  {
    id: 'extapi-fetch',
    label: 'extapi + fetchTransport',
    targets: [{ vs: 'fetch', min: 0.95 }],
    async setup(url) {
      return extapiRow(url, async () => {
        const [fetchTransport] = await need('@extapi/backend-fetch', 'fetchTransport');
        return [fetchTransport()];
      });
    },
  },
  {
    // The same without the transport's own head deadline: fetch then gets no signal to follow, which
    // is most of what fetchTransport costs over fetch (bench/README.md, the 2026-11-30 10:38 entry).
    id: 'extapi-fetch-nohead',
    label: 'extapi + fetchTransport({ headersTimeoutMs: 0 })',
    async setup(url) {
      return extapiRow(url, async () => {
        const [fetchTransport] = await need('@extapi/backend-fetch', 'fetchTransport');
        return [fetchTransport({ headersTimeoutMs: 0 })];
      });
    },
  },
  {
    id: 'fetch',
    label: 'global fetch',
    async setup(url) {
      return {
        call: async () => {
          const res = await fetch(url);
          await res.text();
        },
        close: () => {},
      };
    },
  },
  {
    id: 'got',
    label: 'got 14 (keep-alive agent)',
    async setup(url) {
      const { default: got } = await import('got');
      const agent = new http.Agent({ keepAlive: true });
      const client = got.extend({ agent: { http: agent } });
      return {
        call: async () => {
          await client.get(url).text();
        },
        close: () => agent.destroy(),
      };
    },
  },
  {
    id: 'axios',
    label: 'axios (keep-alive agent)',
    async setup(url) {
      const { default: axios } = await import('axios');
      const agent = new http.Agent({ keepAlive: true });
      const client = axios.create({ httpAgent: agent, responseType: 'text' });
      return {
        call: async () => {
          await client.get(url);
        },
        close: () => agent.destroy(),
      };
    },
  },
  {
    id: 'ky',
    label: 'ky (global fetch)',
    async setup(url) {
      const { default: ky } = await import('ky');
      return {
        call: async () => {
          await ky.get(url).text();
        },
        close: () => {},
      };
    },
  },
  {
    id: 'mw-basic',
    label: 'retry+expectStatus+headers+bearerAuth',
    setup: (url) =>
      extapiRow(url, async () =>
        undiciStack(
          await MAKE.retry(),
          await MAKE.expectStatus(),
          await MAKE.headers(),
          await MAKE.bearerAuth(),
        ),
      ),
  },
  {
    id: 'mw-limits',
    label: 'concurrencyLimit(64)+rateLimit(1e9/s)',
    setup: (url) =>
      extapiRow(url, async () =>
        undiciStack(await MAKE.concurrencyLimit(), await MAKE.rateLimit()),
      ),
  },
  {
    id: 'mw-otel',
    label: 'openTelemetry+prometheus (no SDK)',
    setup: (url) => extapiRow(url, observabilityStack, OBSERVED),
  },
  {
    id: 'mw-otel-sdk',
    label: 'openTelemetry+prometheus (SDK)',
    async setup(url) {
      return extapiRow(
        url,
        async () => {
          // Check the middleware first, so a missing build reads "not built", not an SDK error.
          await need('@extapi/middleware/opentelemetry', 'openTelemetry');
          const { trace } = await import('@opentelemetry/api');
          const { BasicTracerProvider, BatchSpanProcessor } = await import(
            '@opentelemetry/sdk-trace-base'
          );
          // A real provider as production runs it: always-on sampling, batched export, no I/O.
          const provider = new BasicTracerProvider({
            spanProcessors: [new BatchSpanProcessor(noopExporter)],
          });
          trace.setGlobalTracerProvider(provider);
          return observabilityStack();
        },
        OBSERVED,
      );
    },
  },
  {
    id: 'recommended',
    label: 'recommended stack (12 middleware)',
    targets: [
      { vs: 'baseline', min: 0.7 },
      { cpuMax: 1.5 },
      { vs: 'got', min: 5 },
      { vs: 'axios', min: 5 },
      { vs: 'ky', min: 5 },
    ],
    setup: (url) => extapiRow(url, recommendedStack, OBSERVED),
  },
];
