// Everywhere fetch runs: core + fetchTransport + the root middleware bundle for a browser and for
// Cloudflare workerd without any Node builtin (package.json `default` condition), and the browser
// bundle runs in a V8 context that has the web platform's globals and none of Node's, against a real server.
import { builtinModules } from 'node:module';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import type { BuildOptions, Plugin } from 'esbuild';

const esbuild = createRequire(__filename)('esbuild') as typeof import('esbuild');

// What a browser or worker bundle of extapi looks like: the stack of bench/bundle-size.mjs, and logging().
const ENTRY = `
import { createClient } from '@extapi/core';
import { fetchTransport } from '@extapi/backend-fetch';
import { retry, timeout, headers, expectStatus, logging } from '@extapi/middleware';
export { createClient, fetchTransport, retry, timeout, headers, expectStatus, logging };
`;

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Records every Node builtin the bundle asks for (and who asks), instead of esbuild's bare error. */
function nodeBuiltins(found: string[]): Plugin {
  return {
    name: 'node-builtins',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (!BUILTINS.has(args.path) && !args.path.startsWith('node:')) return undefined;
        found.push(`${args.path} (from ${args.importer})`);
        return { path: args.path, external: true };
      });
    },
  };
}

async function bundle(options: BuildOptions): Promise<{ code: string; builtins: string[] }> {
  const builtins: string[] = [];
  const result = await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: join(__dirname, '..'), loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    logLevel: 'silent',
    plugins: [nodeBuiltins(builtins)],
    ...options,
  });
  expect(result.errors).toEqual([]);
  return { code: result.outputFiles![0]!.text, builtins };
}

describe('the bundle for browsers and workers', () => {
  it('bundles for the browser (platform browser, no externals) without a Node builtin', async () => {
    const { code, builtins } = await bundle({ platform: 'browser' });
    expect(builtins).toEqual([]);
    // Not the Node adapter nor the Node platform file.
    expect(code).not.toMatch(/createGunzip|setImmediate|STATUS_CODES/);
  });

  it("bundles for Cloudflare workerd (conditions 'workerd', 'worker', 'browser') without a Node builtin", async () => {
    const { builtins } = await bundle({
      platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['module', 'main'],
    });
    expect(builtins).toEqual([]);
  });

  it('the Node condition still resolves the Node build', async () => {
    const { code } = await bundle({ platform: 'node' });
    expect(code).toContain('createGunzip');
  });
});

describe('the browser bundle, run without Node', () => {
  let server: TestServer;
  let extapi: Record<string, (...args: unknown[]) => never>;
  const seen: { url: string; key: string | undefined }[] = [];
  let failures = 0;

  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      seen.push({ url: req.url!, key: req.headers['idempotency-key'] as string | undefined });
      if (req.url === '/flaky' && failures++ === 0) {
        res.writeHead(503).end('busy');
      } else if (req.url === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
        res.end(gzipSync('{"zipped":true}'));
      } else if (req.url === '/big') {
        // Chunked, no content-length: the limit holds while the body is read.
        res.write('x'.repeat(500));
        res.end('x'.repeat(500));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url, header: req.headers['x-app'] ?? null }));
      }
    });
    const { code } = await bundle({ platform: 'browser', format: 'iife', globalName: 'extapi' });
    // The web platform's globals, none of Node's (no Buffer, process, setImmediate, require).
    const globals = [
      'fetch',
      'Headers',
      'Request',
      'Response',
      'FormData',
      'Blob',
      'URL',
      'URLSearchParams',
      'ReadableStream',
      'WritableStream',
      'TransformStream',
      'DecompressionStream',
      'TextEncoder',
      'TextDecoder',
      'AbortController',
      'AbortSignal',
      'DOMException',
      'Event',
      'EventTarget',
      'crypto',
      'setTimeout',
      'clearTimeout',
      'queueMicrotask',
      'structuredClone',
      'performance',
      'console',
      'btoa',
      'atob',
    ];
    const context = vm.createContext(
      Object.fromEntries(
        globals.map((name) => [name, (globalThis as Record<string, unknown>)[name]]),
      ),
    );
    vm.runInContext(code, context);
    extapi = context.extapi;
    expect(vm.runInContext('typeof Buffer + typeof process + typeof setImmediate', context)).toBe(
      'undefinedundefinedundefined',
    );
  });

  afterAll(() => server.close());

  function client(extra: unknown[] = []) {
    return extapi.createClient!(
      [
        extapi.retry!({ backoff: { baseMs: 1, maxMs: 1 }, idempotencyKey: true }),
        extapi.timeout!(5_000),
        extapi.headers!({ 'x-app': 'web' }),
        extapi.expectStatus!(),
        ...extra,
        extapi.fetchTransport!(),
      ],
      { baseUrl: server.url },
    ) as unknown as {
      get(
        path: string,
        options?: object,
      ): Promise<{
        json(): Promise<unknown>;
        bytes(): Promise<Uint8Array>;
        discard(): Promise<void>;
        body: unknown;
      }>;
      post(path: string, options?: object): Promise<{ json(): Promise<unknown> }>;
    };
  }

  it('sends a request through retry, timeout, headers and expectStatus, and reads JSON', async () => {
    const res = await client().get('/hello');
    expect(await res.json()).toEqual({ url: '/hello', header: 'web' });
  });

  it('logs through logging() with a logger of its own (no process.stderr, no NODE_DEBUG)', async () => {
    const lines: string[] = [];
    const log = (_obj: object, msg?: string) => lines.push(msg ?? '');
    const logger = { debug: log, info: log, warn: log, error: log };
    await client([extapi.logging!(), extapi.logging!({ logger })]).get('/logged');
    expect(lines.join('\n')).toMatch(/GET .*\/logged/);
  });

  it('retries a 503 with the same Web Crypto idempotency key', async () => {
    seen.length = 0;
    const res = await client().post('/flaky', { json: { a: 1 } });
    expect(await res.json()).toEqual({ url: '/flaky', header: 'web' });
    expect(seen.map((s) => s.url)).toEqual(['/flaky', '/flaky']);
    expect(seen[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.key).toBe(seen[0]!.key);
  });

  it('streams a body as a web ReadableStream and holds it to maxResponseBytes', async () => {
    const streamed = await client().get('/gzip', { readBody: false });
    expect(typeof (streamed.body as ReadableStream).getReader).toBe('function');
    expect(await streamed.json()).toEqual({ zipped: true });
    const big = await client().get('/big', { readBody: false, maxResponseBytes: 100 });
    await expect(big.bytes()).rejects.toMatchObject({ code: 'ERR_RESPONSE_TOO_LARGE' });
    const unread = await client().get('/hello', { readBody: false });
    await unread.discard();
    expect(await unread.bytes()).toHaveLength(0);
  });
});
