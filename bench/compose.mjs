// The pipeline microbenchmark: ns per call through 10 no-op middleware and a constant terminal,
// extapi's compose vs koa-compose. Run alone (`node bench/compose.mjs`) or from run.mjs.
import { benchEntry, runSelf } from './harness.mjs';
import { PINNING, machine, median, parseArgs, pinningNote, positive, table } from './util.mjs';

const LAYERS = 10;
const BATCH = 1000;

// The same no-op middleware and terminal for both implementations (created per process).
function fixtures(kind) {
  const middleware = Array.from({ length: LAYERS }, () =>
    kind === 'async' ? async (_ctx, next) => next() : (_ctx, next) => next(),
  );
  const answer = { status: 200 };
  const resolved = Promise.resolve(answer);
  const terminal = () => resolved;
  return { middleware, terminal, answer, ctx: { request: {}, state: new Map() } };
}

async function build(impl, middleware) {
  if (impl === 'extapi') {
    const { compose } = await import('@extapi/core');
    return compose(...middleware);
  }
  const { default: koaCompose } = await import('koa-compose');
  return koaCompose(middleware);
}

// Calls in batches: BATCH calls back to back, then one await, so the per-call figure is the
// pipeline's own cost and not one microtask turn per call.
async function measure(fn, ctx, terminal, iterations) {
  let last;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += BATCH) {
    for (let j = 0; j < BATCH; j++) last = fn(ctx, terminal);
    await last;
  }
  return Number(process.hrtime.bigint() - t0) / iterations;
}

async function child({ impl, kind, iterations }) {
  const { middleware, terminal, answer, ctx } = fixtures(kind);
  const fn = await build(impl, middleware);
  if ((await fn(ctx, terminal)) !== answer)
    throw new Error(`${impl} did not return the terminal's answer`);
  await measure(fn, ctx, terminal, Math.min(iterations, 200_000)); // warm-up: JIT both paths
  return measure(fn, ctx, terminal, iterations);
}

const runInChild = (message) => runSelf(import.meta.url, message, PINNING?.client);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rounds = positive(args, 'rounds', 7);
  const iterations = Math.ceil(positive(args, 'iterations', 2_000_000) / BATCH) * BATCH;
  console.log(
    `compose microbenchmark: ${LAYERS} no-op middleware + constant terminal, ${iterations.toLocaleString('en-US')} ` +
      `calls per process, ${rounds} rounds (each implementation in a fresh process, alternating), median ns/call`,
  );
  console.log(`machine: ${machine()}`);
  console.log(pinningNote());
  const lines = [];
  let verdict;
  for (const kind of ['sync', 'async']) {
    const ns = { extapi: [], koa: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? ['koa', 'extapi'] : ['extapi', 'koa'];
      for (const impl of order) ns[impl].push(await runInChild({ impl, kind, iterations }));
    }
    const ours = median(ns.extapi);
    const koa = median(ns.koa);
    const ratio = ours / koa;
    const label = kind === 'sync' ? '(ctx, next) => next()' : 'async (ctx, next) => next()';
    let result = 'reported';
    if (kind === 'sync') {
      verdict = ratio <= 0.5 ? 'PASS' : 'FAIL';
      result = `target ≤ 0.50×: ${verdict}`;
    }
    lines.push([label, ours.toFixed(1), koa.toFixed(1), `${ratio.toFixed(2)}×`, result]);
  }
  console.log(
    `\n${table(['middleware', 'extapi ns/call', 'koa-compose ns/call', 'extapi/koa', ''], lines)}\n`,
  );
  return verdict;
}

benchEntry(main, child);
