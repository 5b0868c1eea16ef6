// The benchmark's rows: each one builds a client and gives back one `call()` that makes a GET and
// reads the whole body. client.mjs runs one row per process; run.mjs prints them against `undici`.
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

async function observabilityStack() {
  const [openTelemetry] = await need('@extapi/middleware/opentelemetry', 'openTelemetry');
  const [prometheusMetrics] = await need('@extapi/middleware/prometheus', 'prometheusMetrics');
  const { Registry } = await import('prom-client');
  return undiciStack(openTelemetry(), prometheusMetrics({ registry: new Registry() }));
}

/**
 * Every row, in print order. `target` is the ratio a row must reach against `vs` (req/s), and for
 * `cpuMax` the most CPU per request it may spend relative to raw undici.
 */
export const ROWS = [
  {
    id: 'undici',
    label: 'undici.request (raw)',
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
    async setup(url) {
      const { Agent } = await import('undici');
      const dispatcher = new Agent({ keepAliveTimeout: 60_000 });
      const { origin, pathname, search } = new URL(url);
      const options = { origin, path: pathname + search, method: 'GET' };
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
    id: 'extapi-undici',
    label: 'extapi + undiciTransport',
    target: { vs: 'undici', min: 0.9, cpuMax: 1.15 },
    setup: (url) => extapiRow(url, () => undiciStack()),
  },
  {
    id: 'extapi-fetch',
    label: 'extapi + fetchTransport',
    target: { vs: 'fetch', min: 0.9 },
    async setup(url) {
      return extapiRow(url, async () => {
        const [fetchTransport] = await need('@extapi/backend-fetch', 'fetchTransport');
        return [fetchTransport()];
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
    target: { vs: 'undici', min: 0.85 },
    setup: (url) =>
      extapiRow(url, async () => {
        const [retry, expectStatus, headers, bearerAuth] = await need(
          '@extapi/middleware',
          'retry',
          'expectStatus',
          'headers',
          'bearerAuth',
        );
        return undiciStack(
          retry(),
          expectStatus([200]),
          headers({ 'x-a': '1' }),
          bearerAuth(() => 't'),
        );
      }),
  },
  {
    id: 'mw-limits',
    label: 'concurrencyLimit(64)+rateLimit(1e9/s)',
    target: { vs: 'undici', min: 0.85 },
    setup: (url) =>
      extapiRow(url, async () => {
        const entries = ['@extapi/middleware', '@extapi/middleware/limits'];
        const concurrencyLimit = await needFrom(entries, 'concurrencyLimit');
        const rateLimit = await needFrom(entries, 'rateLimit');
        return undiciStack(
          concurrencyLimit({ max: 64 }),
          rateLimit({ limit: 1e9, windowMs: 1000 }),
        );
      }),
  },
  {
    id: 'mw-otel',
    label: 'openTelemetry+prometheus (no SDK)',
    target: { vs: 'undici', min: 0.85 },
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
];
