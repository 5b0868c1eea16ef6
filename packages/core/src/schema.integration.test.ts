// res.json(schema) end to end: a real node:http server, and a minimal transport on Node's own fetch
// (core cannot depend on the backend packages), reading bodies buffered and streamed.
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import * as v from 'valibot';
import { z } from 'zod';
import { createClient } from './client.js';
import type { ResponseValidationError } from './errors.js';
import { isResponseValidationError } from './error-guards.js';
import { createResponse } from './response.js';
import { startTestServer, type TestServer } from './testing/index.js';
import { defineTransport } from './transport.js';

const TOKEN = 'tok_3b9a1f77e2c04d5e';

const fetchTransport = defineTransport(
  async (ctx) => {
    const res = await fetch(ctx.request.url, {
      method: ctx.request.method,
      headers: ctx.request.headers,
      signal: ctx.signal,
    });
    const body = ctx.readBody
      ? new Uint8Array(await res.arrayBuffer())
      : res.body && Readable.fromWeb(res.body as NodeWebStream<Uint8Array>);
    return createResponse({
      status: res.status,
      headers: res.headers,
      url: res.url,
      method: ctx.request.method,
      body,
    });
  },
  { name: 'testFetch' },
);

const Session = z.object({ user: z.string(), expiresIn: z.number().int().positive() });
const SessionV = v.object({ user: v.string(), expiresIn: v.pipe(v.number(), v.integer()) });

describe('res.json(schema) against a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      // /bad: the token sits in a field whose type is wrong, as a partner's broken release might send.
      res.end(
        req.url?.startsWith('/good')
          ? JSON.stringify({ user: 'ada', expiresIn: 3600 })
          : JSON.stringify({ user: 'ada', expiresIn: TOKEN, access_token: TOKEN }),
      );
    });
  });
  afterAll(() => server.close());

  const client = () => createClient([fetchTransport], { baseUrl: server.url });

  test.each([
    ['zod', Session],
    ['valibot', SessionV],
  ])('returns good JSON checked by %s, buffered and streamed', async (_, schema) => {
    for (const readBody of [true, false]) {
      const res = await client().get('/good', { readBody });
      expect(await res.json(schema)).toEqual({ user: 'ada', expiresIn: 3600 });
    }
  });

  test.each([
    ['zod', Session],
    ['valibot', SessionV],
  ])('rejects bad JSON checked by %s without the token in the error', async (_, schema) => {
    for (const readBody of [true, false]) {
      const res = await client().get(`/bad?token=${TOKEN}`, { readBody });
      const error = (await res.json(schema).catch((e: unknown) => e)) as ResponseValidationError;
      expect(isResponseValidationError(error)).toBe(true);
      expect(error.status).toBe(200);
      expect(error.url).toBe(`${server.url}/bad?token=[REDACTED]`);
      expect(error.message).toContain('$.expiresIn: ');
      expect(error.message).toContain(`(GET ${server.url}/bad?token=[REDACTED])`);
      expect(error.message).not.toContain(TOKEN);
      expect(JSON.stringify(error)).not.toContain(TOKEN);
      expect(error.issues).toHaveLength(1);
      // The body is still there for whoever needs to look at it.
      expect(await error.response.json()).toMatchObject({ access_token: TOKEN });
    }
  });
});
