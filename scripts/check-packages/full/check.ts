// Type-checked under moduleResolution node16 (as .mts and .cts) and bundler, against the tarballs.
import {
  type Client,
  type Context,
  createClient,
  defineMiddleware,
  type HttpResponse,
  isHttpStatusError,
  lintStack,
  type Middleware,
  type Next,
  sleep,
} from '@extapi/core';
import {
  type ConformanceSuite,
  mockTransport,
  transportConformanceCases,
} from '@extapi/core/testing';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import {
  bearerAuth,
  concurrencyLimit,
  expectStatus,
  logging,
  rateLimit,
  retry,
  type RetryOptions,
} from '@extapi/middleware';
import { timeout } from '@extapi/middleware/timeout';

declare module '@extapi/core' {
  interface RequestMeta {
    tenant?: string;
  }
}

function tenantHeader(): Middleware {
  const middleware = async function tenantHeader(ctx: Context, next: Next): Promise<HttpResponse> {
    const tenant: string | undefined = ctx.meta.tenant;
    if (tenant) ctx.request.headers.set('x-tenant', tenant);
    await sleep(0, ctx.signal);
    return next(ctx);
  };
  return defineMiddleware(middleware, { name: 'tenantHeader', placement: { per: 'attempt' } });
}

// The conformance suite as data, for a runner of one's own.
export const suite: ConformanceSuite = transportConformanceCases('undici', (options) =>
  undiciTransport(options),
);

const retryOptions: RetryOptions = { maxAttempts: 2 };
const client: Client = createClient([
  logging(),
  retry(retryOptions),
  concurrencyLimit({ max: 4 }),
  rateLimit({ limit: 10, windowMs: 1_000 }),
  timeout({ ms: 1_000 }),
  expectStatus([200]),
  bearerAuth(() => 'token'),
  tenantHeader(),
  undiciTransport(),
]);
const other: Client = createClient([retry(), fetchTransport()]);
const mocked: Client = createClient([tenantHeader(), mockTransport([{ status: 200 }])]);

export async function use(): Promise<number> {
  try {
    const res = await client.get('/items/1', { meta: { tenant: 'acme' } });
    const data = await res.json<{ id: number }>();
    return data.id + lintStack([]).length + other.describe().length + mocked.describe().length;
  } catch (error) {
    if (isHttpStatusError(error)) return error.response.status;
    throw error;
  }
}
