// A scripted transport for unit tests of middleware: answers from a script and records what it saw.
// It is the seam middleware authors test against without a server.
import type { Readable } from 'node:stream';
import { peekHeaders, requestUrl } from '../context.js';
import { headerList } from '../pass-headers.js';
import { createResponse } from '../response.js';
import { sleep } from '../signal.js';
import { defineTransport } from '../transport.js';
import type { Context, HttpResponse, Transport } from '../types.js';

/** A scripted answer: a response (status, headers, body) or, with `error`, a rejection. */
export interface MockAnswer {
  /** @default 200 */
  status?: number;
  /** The reason phrase; default `''`. */
  statusText?: string;
  /** Response headers; an array value sends the header once per item. */
  headers?: Record<string, string | string[]>;
  /** A string, bytes or object (sent as JSON), or a stream for `readBody: false` tests. */
  body?: string | Uint8Array | Readable | object | null;
  /** Wait this long (abortable by `ctx.scope`) before answering. */
  delayMs?: number;
  /** Reject with this instead of answering. */
  error?: unknown;
}

/** One step of a script: an answer, or a function of the context that returns one (or a response). */
export type MockStep =
  | MockAnswer
  | ((
      ctx: Context,
      call: number,
    ) => MockAnswer | HttpResponse | Promise<MockAnswer | HttpResponse>);

/** What the mock transport saw for one call. */
export interface RecordedRequest {
  /** The request method. */
  method: string;
  /** The absolute request URL (`url.href`). */
  url: string;
  /** The request headers, names lower-cased. */
  headers: Record<string, string>;
  /** The request body as the transport received it. */
  body: unknown;
  /** The attempt number of the context. */
  attempt: number;
  /** The context itself, for assertions on meta, state or signal. */
  ctx: Context;
}

/** Options of {@link mockTransport}. */
export interface MockTransportOptions {
  /** What to answer once the script is used up. @default the last step again, or 200 with no body */
  fallback?: MockStep;
}

/** A transport that answers from a script, with the requests it recorded. */
export interface MockTransport extends Transport {
  /** Every request seen, in order. */
  readonly requests: RecordedRequest[];
  /** How many calls are in progress right now. */
  readonly inFlight: number;
  /** The largest number of calls in progress at once. */
  readonly maxInFlight: number;
}

function isResponse(value: unknown): value is HttpResponse {
  return typeof value === 'object' && value !== null && 'status' in value && 'discard' in value;
}

/**
 * A scripted transport: call n gets `script[n]` (the last step repeats when the script runs out).
 * @example
 * const transport = mockTransport([{ status: 503 }, { status: 200, body: { ok: true } }]);
 * const client = createClient([retry(), transport]);
 * await client.get('http://api.test/items');
 * expect(transport.requests).toHaveLength(2);
 */
export function mockTransport(
  script: MockStep[] = [],
  options: MockTransportOptions = {},
): MockTransport {
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let calls = 0;

  async function answer(ctx: Context): Promise<HttpResponse> {
    const call = calls++;
    const { method, body } = ctx.request;
    // Read as the transports read it: a URL the client kept as text is not parsed for it.
    const { href } = requestUrl(ctx.request);
    requests.push({
      method,
      url: href,
      // Read as the undici transport reads them (headerList): no copy of headers nobody wrote, no
      // Headers built for a pass that only set some.
      headers: recordOf(headerList(peekHeaders(ctx.request))),
      body,
      attempt: ctx.attempt,
      ctx,
    });
    if (ctx.scope.aborted) throw ctx.scope.reason;
    let step: MockStep | MockAnswer | HttpResponse = script[call] ??
      options.fallback ??
      script[script.length - 1] ?? { status: 200 };
    if (typeof step === 'function') step = await step(ctx, call);
    if (isResponse(step)) return step;
    if (step.delayMs) await sleep(step.delayMs, ctx.scope);
    if ('error' in step && step.error !== undefined) throw step.error;
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(step.headers ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
    }
    let responseBody: Uint8Array | Readable | null = null;
    const raw = step.body;
    if (typeof raw === 'string') responseBody = Buffer.from(raw);
    else if (raw instanceof Uint8Array) responseBody = raw;
    else if (raw && typeof (raw as Readable).pipe === 'function') responseBody = raw as Readable;
    else if (raw !== undefined && raw !== null) {
      responseBody = Buffer.from(JSON.stringify(raw));
      if (!responseHeaders.has('content-type'))
        responseHeaders.set('content-type', 'application/json');
    }
    return createResponse({
      status: step.status ?? 200,
      statusText: step.statusText ?? '',
      headers: responseHeaders,
      url: href,
      method,
      body: responseBody,
      raw: step,
    });
  }

  const transport = defineTransport(
    async (ctx: Context) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await answer(ctx);
      } finally {
        inFlight--;
      }
    },
    { name: 'mock', extra: { requests } },
  );
  Object.defineProperties(transport, {
    inFlight: { get: () => inFlight },
    maxInFlight: { get: () => maxInFlight },
  });
  return transport as unknown as MockTransport;
}

/** A flat `[name, value, …]` list as a record, as `Object.fromEntries` makes one (own data keys). */
function recordOf(list: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    // `__proto__` is a valid header name: an own key, never the record's prototype.
    if (name === '__proto__') {
      Object.defineProperty(record, name, {
        value: list[i + 1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else record[name] = list[i + 1]!;
  }
  return record;
}
