import {
  ConfigError,
  createClient,
  HttpStatusError,
  isConfigError,
  TimeoutError,
  TransportError,
  type Logger,
  type Middleware,
} from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { Counter, Registry, register } from 'prom-client';
import { expectStatus } from '../expect-status.js';
import { retry } from '../retry/index.js';
import { DEFAULT_BUCKETS, prometheusMetrics } from './index.js';

const BUCKET_BOUNDS = [
  '0.005',
  '0.01',
  '0.05',
  '0.1',
  '0.5',
  '1',
  '2.5',
  '5',
  '7.5',
  '10',
  '12.5',
  '15',
  '17.5',
  '20',
  '22.5',
  '25',
  '27.5',
  '30',
  '+Inf',
];

/** The sample lines of the exposition (no HELP/TYPE), for one metric name and its _bucket/_sum/_count. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name}_`));
}

/** A logger that records warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  return {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (_obj, msg) => warnings.push(msg ?? ''),
  };
}

/** Bucket lines for one series whose single observation falls in the bucket `firstHit` and above. */
function bucketLines(name: string, labels: string, firstHit: string): string[] {
  const hit = BUCKET_BOUNDS.indexOf(firstHit);
  return BUCKET_BOUNDS.map((le, i) => `${name}_bucket{le="${le}",${labels}} ${i >= hit ? 1 : 0}`);
}

describe('prometheusMetrics', () => {
  // Fake timers fake performance.now, so each call's duration is exactly its scripted delay.
  beforeEach(() =>
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }),
  );
  afterEach(() => jest.useRealTimers());

  async function settle<T>(promise: Promise<T>, ms: number): Promise<T> {
    await jest.advanceTimersByTimeAsync(ms);
    return promise;
  }

  it('writes the exact series for a 200, a 503 and a refused connection', async () => {
    const registry = new Registry();
    const transport = mockTransport([
      { status: 200, delayMs: 30 },
      { status: 503, delayMs: 200 },
      { delayMs: 3, error: new TransportError('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED') },
    ]);
    const client = createClient([prometheusMetrics({ registry }), transport]);

    await settle(client.get('http://api.test:8080/items/1', { pathTemplate: '/items/:id' }), 30);
    await settle(client.get('http://api.test:8080/items/2', { pathTemplate: '/items/:id' }), 200);
    const refused = client.post('http://api.test:8080/items', { pathTemplate: '/items', json: {} });
    const failure = expect(refused).rejects.toThrow(TransportError);
    await jest.advanceTimersByTimeAsync(3);
    await failure;

    const ok =
      'scheme="http",domain="api.test",port="8080",method="GET",path="/items/:id",status="200"';
    const unavailable =
      'scheme="http",domain="api.test",port="8080",method="GET",path="/items/:id",status="503"';
    const errored =
      'scheme="http",domain="api.test",port="8080",method="POST",path="/items",error_type="TransportError"';
    expect(await samples(registry, 'external_service_request_total')).toEqual([
      `external_service_request_total{${ok}} 1`,
      `external_service_request_total{${unavailable}} 1`,
    ]);
    expect(await samples(registry, 'external_service_request_duration_seconds')).toEqual([
      ...bucketLines('external_service_request_duration_seconds', ok, '0.05'),
      `external_service_request_duration_seconds_sum{${ok}} 0.03`,
      `external_service_request_duration_seconds_count{${ok}} 1`,
      ...bucketLines('external_service_request_duration_seconds', unavailable, '0.5'),
      `external_service_request_duration_seconds_sum{${unavailable}} 0.2`,
      `external_service_request_duration_seconds_count{${unavailable}} 1`,
    ]);
    expect(await samples(registry, 'external_service_errored_request_total')).toEqual([
      `external_service_errored_request_total{${errored}} 1`,
    ]);
    expect(await samples(registry, 'external_service_errored_request_duration_seconds')).toEqual([
      ...bucketLines('external_service_errored_request_duration_seconds', errored, '0.005'),
      `external_service_errored_request_duration_seconds_sum{${errored}} 0.003`,
      `external_service_errored_request_duration_seconds_count{${errored}} 1`,
    ]);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE external_service_request_total counter');
    expect(text).toContain('# TYPE external_service_request_duration_seconds histogram');
    expect(text).toContain('# TYPE external_service_errored_request_total counter');
    expect(text).toContain('# TYPE external_service_errored_request_duration_seconds histogram');
  });

  it('uses the old library default buckets', () => {
    expect(DEFAULT_BUCKETS).toEqual([
      0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 7.5, 10, 12.5, 15, 17.5, 20, 22.5, 25, 27.5, 30,
    ]);
  });

  it('uses the given buckets and prefix', async () => {
    const registry = new Registry();
    const client = createClient([
      prometheusMetrics({ registry, prefix: 'billing_', buckets: [0.1, 1] }),
      mockTransport([{ status: 204, delayMs: 500 }]),
    ]);
    await settle(client.get('https://api.test/x', { pathTemplate: '/x' }), 500);
    const labels =
      'scheme="https",domain="api.test",port="443",method="GET",path="/x",status="204"';
    expect(await samples(registry, 'billing_external_service_request_duration_seconds')).toEqual([
      `billing_external_service_request_duration_seconds_bucket{le="0.1",${labels}} 0`,
      `billing_external_service_request_duration_seconds_bucket{le="1",${labels}} 1`,
      `billing_external_service_request_duration_seconds_bucket{le="+Inf",${labels}} 1`,
      `billing_external_service_request_duration_seconds_sum{${labels}} 0.5`,
      `billing_external_service_request_duration_seconds_count{${labels}} 1`,
    ]);
    expect(await samples(registry, 'billing_external_service_request_total')).toEqual([
      `billing_external_service_request_total{${labels}} 1`,
    ]);
  });

  it('labels the effective port, 80 for http and 443 for https without one', async () => {
    const registry = new Registry();
    const client = createClient([
      prometheusMetrics({ registry }),
      mockTransport([{ status: 200 }]),
    ]);
    await settle(client.get('http://plain.test/', { pathTemplate: '/' }), 0);
    await settle(client.get('https://secure.test/', { pathTemplate: '/' }), 0);
    const lines = await samples(registry, 'external_service_request_total');
    expect(lines).toEqual([
      'external_service_request_total{scheme="http",domain="plain.test",port="80",method="GET",path="/",status="200"} 1',
      'external_service_request_total{scheme="https",domain="secure.test",port="443",method="GET",path="/",status="200"} 1',
    ]);
  });

  it('tells apart origins that share a prefix: a longer host, a port, userinfo', async () => {
    const registry = new Registry();
    const client = createClient([
      prometheusMetrics({ registry }),
      mockTransport([{ status: 200 }]),
    ]);
    for (const url of [
      'http://a.test/x',
      'http://a.test.evil/x',
      'http://a.test:8080/x',
      'http://u:p@a.test/x',
      'http://a.test/y',
    ])
      await settle(client.get(url, { pathTemplate: '/x' }), 0);
    const lines = await samples(registry, 'external_service_request_total');
    expect(lines).toEqual([
      'external_service_request_total{scheme="http",domain="a.test",port="80",method="GET",path="/x",status="200"} 3',
      'external_service_request_total{scheme="http",domain="a.test.evil",port="80",method="GET",path="/x",status="200"} 1',
      'external_service_request_total{scheme="http",domain="a.test",port="8080",method="GET",path="/x",status="200"} 1',
    ]);
  });

  it('counts afresh after the registry resets its metrics', async () => {
    const registry = new Registry();
    const client = createClient([
      prometheusMetrics({ registry }),
      mockTransport([{ status: 200 }]),
    ]);
    await settle(client.get('http://api.test/', { pathTemplate: '/' }), 0);
    registry.resetMetrics();
    await settle(client.get('http://api.test/', { pathTemplate: '/' }), 0);
    const lines = await samples(registry, 'external_service_request_total');
    expect(lines).toEqual([
      'external_service_request_total{scheme="http",domain="api.test",port="80",method="GET",path="/",status="200"} 1',
    ]);
  });

  it('counts an HttpStatusError from an inner expectStatus as a response with its status', async () => {
    const registry = new Registry();
    const expectOk: Middleware = async (_ctx, next) => {
      const response = await next();
      if (!response.ok) throw new HttpStatusError(response, { expected: '2xx' });
      return response;
    };
    const client = createClient([
      prometheusMetrics({ registry }),
      expectOk,
      mockTransport([{ status: 404 }]),
    ]);
    const call = client.get('http://api.test/missing', { pathTemplate: '/missing' });
    const failure = expect(call).rejects.toThrow(HttpStatusError);
    await jest.advanceTimersByTimeAsync(0);
    await failure;
    expect(await samples(registry, 'external_service_request_total')).toEqual([
      'external_service_request_total{scheme="http",domain="api.test",port="80",method="GET",path="/missing",status="404"} 1',
    ]);
    expect(await samples(registry, 'external_service_errored_request_total')).toEqual([]);
  });

  it('labels each error with its class name', async () => {
    const registry = new Registry();
    const client = createClient([
      prometheusMetrics({ registry }),
      mockTransport([
        { error: new TimeoutError(5, { phase: 'headers' }) },
        { error: new TypeError('bad') },
        { error: new TransportError('reset', 'ECONNRESET') },
      ]),
    ]);
    for (let i = 0; i < 3; i++) {
      const call = client.get('http://api.test/x', { pathTemplate: '/x' });
      const failure = expect(call).rejects.toBeDefined();
      await jest.advanceTimersByTimeAsync(0);
      await failure;
    }
    const lines = await samples(registry, 'external_service_errored_request_total');
    expect(
      lines.map((line) => /error_type="([^"]+)"\} (\d+)/.exec(line)?.slice(1).join(' ')),
    ).toEqual(['TimeoutError 1', 'TypeError 1', 'TransportError 1']);
  });

  it('shares the metrics of two clients on one registry instead of registering them twice', async () => {
    const registry = new Registry();
    const first = createClient([prometheusMetrics({ registry }), mockTransport([{ status: 200 }])]);
    const second = createClient([
      prometheusMetrics({ registry }),
      mockTransport([{ status: 200 }]),
    ]);
    await settle(first.get('http://api.test/x', { pathTemplate: '/x' }), 0);
    await settle(second.get('http://api.test/x', { pathTemplate: '/x' }), 0);
    await settle(second.get('http://api.test/x', { pathTemplate: '/x' }), 0);
    expect(await samples(registry, 'external_service_request_total')).toEqual([
      'external_service_request_total{scheme="http",domain="api.test",port="80",method="GET",path="/x",status="200"} 3',
    ]);
    expect(registry.getMetricsAsArray()).toHaveLength(4);
  });

  it('registers separate metrics for another prefix on the same registry', () => {
    const registry = new Registry();
    prometheusMetrics({ registry });
    prometheusMetrics({ registry, prefix: 'other_' });
    expect(
      registry
        .getMetricsAsArray()
        .map((metric) => metric.name)
        .sort(),
    ).toEqual([
      'external_service_errored_request_duration_seconds',
      'external_service_errored_request_total',
      'external_service_request_duration_seconds',
      'external_service_request_total',
      'other_external_service_errored_request_duration_seconds',
      'other_external_service_errored_request_total',
      'other_external_service_request_duration_seconds',
      'other_external_service_request_total',
    ]);
  });

  it('refuses a metric of the same name registered with other labels', () => {
    const registry = new Registry();
    new Counter({
      name: 'external_service_request_total',
      help: 'x',
      labelNames: ['method'],
      registers: [registry],
    });
    expect(() => prometheusMetrics({ registry })).toThrow(ConfigError);
  });

  it('registers on prom-client global registry by default', async () => {
    const prefix = 'extapi_default_registry_test_';
    try {
      const client = createClient([
        prometheusMetrics({ prefix }),
        mockTransport([{ status: 200 }]),
      ]);
      await settle(client.get('http://api.test/x', { pathTemplate: '/x' }), 0);
      expect(
        await register.getSingleMetricAsString(`${prefix}external_service_request_total`),
      ).toContain(
        `${prefix}external_service_request_total{scheme="http",domain="api.test",port="80",method="GET",path="/x",status="200"} 1`,
      );
    } finally {
      for (const metric of register.getMetricsAsArray()) {
        if (metric.name.startsWith(prefix)) register.removeSingleMetric(metric.name);
      }
    }
  });

  it('labels new paths past maxPathValues as other', async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    const client = createClient([
      prometheusMetrics({ registry, maxPathValues: 2, logger }),
      mockTransport([{ status: 200 }]),
    ]);
    for (const path of ['/a', '/b', '/c', '/a', '/d'])
      await settle(client.get(`http://api.test${path}`), 0);
    const lines = await samples(registry, 'external_service_request_total');
    expect(lines.map((line) => /path="([^"]+)".*\} (\d+)/.exec(line)?.slice(1).join(' '))).toEqual([
      '/a 2',
      '/b 1',
      'other 2',
    ]);
  });

  it('counts templates towards the path cap as well', async () => {
    const registry = new Registry();
    const client = createClient([
      prometheusMetrics({ registry, maxPathValues: 1 }),
      mockTransport([{ status: 200 }]),
    ]);
    await settle(client.get('http://api.test/items/1', { pathTemplate: '/items/:id' }), 0);
    await settle(client.get('http://api.test/users/1', { pathTemplate: '/users/:id' }), 0);
    const lines = await samples(registry, 'external_service_request_total');
    expect(lines.map((line) => /path="([^"]+)"/.exec(line)?.[1])).toEqual(['/items/:id', 'other']);
  });

  it('keeps counting right when the label cache has to evict', async () => {
    const registry = new Registry();
    const client = createClient([
      prometheusMetrics({ registry, maxPathValues: 5000 }),
      mockTransport([{ status: 200 }]),
    ]);
    // No delay in the script, so these calls need no timer to settle.
    for (let i = 0; i < 4200; i++) await client.get('http://api.test/', { pathTemplate: `/p${i}` });
    for (let i = 0; i < 3; i++) await client.get('http://api.test/', { pathTemplate: '/p0' });
    const lines = await samples(registry, 'external_service_request_total');
    expect(lines).toHaveLength(4200);
    expect(lines.find((line) => line.includes('path="/p0"'))).toMatch(/ 4$/);
  });

  it('warns once per middleware through the logger when calls have no pathTemplate', async () => {
    const logger = recordingLogger();
    const registry = new Registry();
    const transport = mockTransport([{ status: 200 }]);
    const client = createClient([prometheusMetrics({ registry, logger }), transport]);
    await settle(client.get('http://api.test/a'), 0);
    await settle(client.get('http://api.test/b'), 0);
    await settle(client.get('http://api.test/c', { pathTemplate: '/c' }), 0);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('pathTemplate');
    const other = createClient([prometheusMetrics({ registry, logger }), transport]);
    await settle(other.get('http://api.test/a'), 0);
    expect(logger.warnings).toHaveLength(2);
  });

  it('does not warn when every call has a pathTemplate', async () => {
    const logger = recordingLogger();
    const client = createClient([
      prometheusMetrics({ registry: new Registry(), logger }),
      mockTransport([{ status: 200 }]),
    ]);
    await settle(client.get('http://api.test/a', { pathTemplate: '/a' }), 0);
    expect(logger.warnings).toEqual([]);
  });

  it('warns once through process.emitWarning without a logger', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const client = createClient([
        prometheusMetrics({ registry: new Registry() }),
        mockTransport([{ status: 200 }]),
      ]);
      await settle(client.get('http://api.test/a'), 0);
      await settle(client.get('http://api.test/b'), 0);
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(emitWarning).toHaveBeenCalledWith(expect.stringContaining('pathTemplate'), {
        type: 'ExtapiWarning',
        code: 'EXTAPI_NO_PATH_TEMPLATE',
      });
    } finally {
      emitWarning.mockRestore();
    }
  });

  it.each([
    ['prefix', 'with a dash', { prefix: 'bad-prefix' }],
    ['prefix', 'that is a number', { prefix: 3 }],
    ['buckets', 'that are empty', { buckets: [] }],
    ['buckets', 'that decrease', { buckets: [1, 0.5] }],
    ['buckets', 'that are not finite', { buckets: [Number.NaN] }],
    ['maxPathValues', 'of 0', { maxPathValues: 0 }],
    ['maxPathValues', 'that is not an integer', { maxPathValues: 1.5 }],
    ['registry', 'that is not a Registry', { registry: {} }],
    ['logger', 'without warn()', { logger: {} }],
  ])('rejects a %s %s at creation with a ConfigError naming it', (option, _label, options) => {
    let error: unknown;
    try {
      prometheusMetrics({ registry: new Registry(), ...(options as object) });
    } catch (caught) {
      error = caught;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as ConfigError).option).toBe(option);
  });

  it('treats an explicit undefined as the default', async () => {
    const registry = new Registry();
    prometheusMetrics({
      registry,
      prefix: undefined,
      buckets: undefined,
      maxPathValues: undefined,
    });
    expect(registry.getSingleMetric('external_service_request_total')).toBeDefined();
  });
});

describe('prometheusMetrics options, read with the options kit', () => {
  it('refuses an unknown option with the nearest known one', () => {
    expect(() => prometheusMetrics({ registry: new Registry(), prefx: 'a_' } as never)).toThrow(
      /prefx.*did you mean prefix\?/,
    );
  });

  it('reads only own properties: a polluted prefix, buckets or logger changes nothing', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    const registry = new Registry();
    let metrics: Middleware;
    try {
      proto.prefix = 'evil_';
      proto.buckets = [1];
      proto.maxPathValues = 1;
      metrics = prometheusMetrics({ registry });
    } finally {
      for (const name of ['prefix', 'buckets', 'maxPathValues']) delete proto[name];
    }
    expect(registry.getSingleMetric('external_service_request_total')).toBeDefined();
    expect(registry.getSingleMetric('evil_external_service_request_total')).toBeUndefined();
    const client = createClient([metrics, mockTransport([{ status: 200 }])]);
    await client.get('http://api.test/a', { pathTemplate: '/a' });
    await client.get('http://api.test/b', { pathTemplate: '/b' });
    const text = await registry.metrics();
    expect(text).toContain('le="30"');
    expect(text).toContain('path="/b"');
  });

  it('never puts a ;api_key= path parameter of a raw path in a label or a warning', async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    const client = createClient([
      prometheusMetrics({ registry, logger }),
      mockTransport([{ status: 200 }]),
    ]);
    await client.get('http://api.test/v1;api_key=path-secret/items');
    const text = await registry.metrics();
    expect(text).toContain('path="/v1;api_key=[REDACTED]/items"');
    expect(text + logger.warnings.join('\n')).not.toContain('path-secret');
  });
});

describe('prometheusMetrics above retry()', () => {
  // retry() gives up by rethrowing the last attempt's own error, so a middleware above it sees
  // what the upstream answered, not a wrapper.
  const fastRetry = () => retry({ sleep: async () => {}, budget: false });

  it('counts three answered 500s as one call with status 500, not as a failure without a response', async () => {
    const registry = new Registry();
    const transport = mockTransport([{ status: 500 }]);
    const client = createClient([
      prometheusMetrics({ registry }),
      fastRetry(),
      expectStatus(),
      transport,
    ]);
    const error = await client.get('http://api.test/x', { pathTemplate: '/x' }).catch((e) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(transport.requests).toHaveLength(3);
    expect(await samples(registry, 'external_service_request_total')).toEqual([
      'external_service_request_total{scheme="http",domain="api.test",port="80",method="GET",path="/x",status="500"} 1',
    ]);
    expect(await samples(registry, 'external_service_errored_request_total')).toEqual([]);
  });

  it('labels a call whose every attempt failed with the last error class', async () => {
    const registry = new Registry();
    const transport = mockTransport([
      { error: new TimeoutError(5, { phase: 'headers' }) },
      { error: new TransportError('reset', 'ECONNRESET') },
      { error: new TransportError('refused', 'ECONNREFUSED') },
    ]);
    const client = createClient([prometheusMetrics({ registry }), fastRetry(), transport]);
    await expect(client.get('http://api.test/x', { pathTemplate: '/x' })).rejects.toThrow(
      TransportError,
    );
    expect(transport.requests).toHaveLength(3);
    const lines = await samples(registry, 'external_service_errored_request_total');
    expect(lines).toEqual([
      'external_service_errored_request_total{scheme="http",domain="api.test",port="80",method="GET",path="/x",error_type="TransportError"} 1',
    ]);
  });

  it('counts a call that succeeded on its third attempt once, with its final status', async () => {
    const registry = new Registry();
    const transport = mockTransport([{ status: 503 }, { status: 502 }, { status: 200 }]);
    const client = createClient([
      prometheusMetrics({ registry }),
      fastRetry(),
      expectStatus(),
      transport,
    ]);
    await client.get('http://api.test/x', { pathTemplate: '/x' });
    expect(await samples(registry, 'external_service_request_total')).toEqual([
      'external_service_request_total{scheme="http",domain="api.test",port="80",method="GET",path="/x",status="200"} 1',
    ]);
  });
});
