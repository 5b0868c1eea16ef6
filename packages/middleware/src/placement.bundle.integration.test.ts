// The stack check after a real esbuild bundle with minification: function names are mangled, so
// only what the middleware declared (defineMiddleware) can tell retry from expectStatus.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);
const PACKAGE_DIR = resolve(__dirname, '..');

// What an application would write: this package's middleware (from its sources, so nothing keeps
// names) plus a third-party middleware declared with core's helper.
const ENTRY = `
import { createClient, defineMiddleware, lintStack } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { bearerAuth, expectStatus, retry, timeout } from './src/index.ts';

const signRequest = defineMiddleware(async function signRequest(ctx, next) { return next(ctx); },
  { name: 'signRequest', placement: { per: 'attempt' } });
const stack = [timeout({ ms: 1000 }), expectStatus(), bearerAuth(() => 't'), signRequest, retry()];
const client = createClient([...stack, mockTransport()], { logger: { debug() {}, info() {}, error() {},
  warn(fields) { process.stdout.write(JSON.stringify({ warned: fields.rules }) + '\\n'); } } });
process.stdout.write(JSON.stringify({
  functionNames: stack.map((fn) => fn.name),
  rules: lintStack(stack).map((w) => w.rule + ':' + w.positions.join(',')),
  described: client.describe(),
}) + '\\n');
`;

describe('the stack check in a bundle minified by esbuild', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'extapi-bundle-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('warns and describes by declaration although every function name is mangled', async () => {
    const outfile = join(dir, 'bundle.mjs');
    await build({
      stdin: { contents: ENTRY, resolveDir: PACKAGE_DIR, loader: 'ts', sourcefile: 'app.ts' },
      bundle: true,
      minify: true,
      keepNames: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      external: ['ioredis', 'redis-semaphore', 'prom-client', '@opentelemetry/api'],
      logLevel: 'silent',
    });
    const { stdout } = await run(process.execPath, [outfile]);
    const [warned, report] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const names = ['timeout', 'expectStatus', 'bearerAuth', 'signRequest', 'retry'];
    // The minifier really renamed them: a check by function name would find nothing here.
    for (const name of report.functionNames) expect(names).not.toContain(name);
    expect(report.rules).toEqual(['outside-retry:1,4', 'outside-retry:2,4', 'outside-retry:3,4']);
    expect(warned).toEqual({ warned: ['outside-retry', 'outside-retry', 'outside-retry'] });
    expect(report.described).toEqual([...names, 'mockTransport']);
  }, 60_000);
});
