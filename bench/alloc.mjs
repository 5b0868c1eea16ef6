// What one call costs in process, with undici's socket work taken out: the Agent's dispatch() is
// replaced by one that answers every request at once (a canned head and body, from a microtask),
// so the raw dispatch row, the transport and every middleware above it run as they do over the
// wire, and only the wire is missing. Prints CPU µs per call (the fastest of several rounds), the
// bytes allocated per call (V8's sampling heap profiler; with --sites the functions that allocate),
// the promises made per call, and the distinct functions each call runs (V8's precise coverage).
// Bytes and functions are the figures to watch: over the wire distinct code costs about 2.5× its
// in-process CPU and objects about 2×, while a busy loop or a promise chain costs 1–1.5×
// (amplify.mjs, bench/README.md). All but the CPU hold steady from run to run.
// Each row runs in its own process (`node bench/alloc.mjs --row <id>` is the child).
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { promiseHooks } from 'node:v8';
import { ABLATION_ROWS, ROWS } from './rows.mjs';
import { load, parseArgs, positive, table } from './util.mjs';

const HELP = `usage: node bench/alloc.mjs [options]
  --only a,b      these rows (default: undici-dispatch, extapi-undici, recommended)
  --calls N       calls per round (default 20000); the heap profile samples 5 rounds' worth
  --rounds N      CPU rounds per row, the fastest counts (default 7)
  --sites N       also print the N functions that allocate most per call, per row
rows: ${[...ROWS, ...ABLATION_ROWS].map((r) => r.id).join(', ')}`;

const DEFAULT_ROWS = ['undici-dispatch', 'extapi-undici', 'recommended'];
const CONCURRENCY = 32;

/** Makes the Agent's dispatch() answer each request from a microtask: no socket, no parser. */
async function fakeDispatch() {
  const { Agent } = await import('undici');
  const head = ['content-type', 'application/json', 'content-length', '2'].map((s) =>
    Buffer.from(s),
  );
  const body = Buffer.from('{}');
  Agent.prototype.dispatch = (_options, handler) => {
    queueMicrotask(() => {
      handler.onConnect(() => {});
      handler.onHeaders(200, head, () => {}, 'OK');
      handler.onData(body);
      handler.onComplete(null);
    });
    return true;
  };
}

/**
 * The distinct functions every call runs and the function calls it makes (V8's precise coverage,
 * counting calls; the faked dispatch() of this script left out). Distinct code is what costs most
 * more over the wire than in a hot loop (see amplify.mjs), so this is the footprint to watch.
 */
async function functionsPerCall(session, run, calls) {
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  await session.post('Profiler.takePreciseCoverage'); // resets the counts
  await run();
  const { result } = await session.post('Profiler.takePreciseCoverage');
  await session.post('Profiler.stopPreciseCoverage');
  let distinct = 0;
  let invoked = 0;
  for (const script of result) {
    if (script.url === import.meta.url) continue;
    // The first entry of a script is its top level, run once when it loaded.
    for (const fn of script.functions.slice(1)) {
      const count = fn.ranges[0].count;
      if (count >= calls) distinct++;
      invoked += count;
    }
  }
  return { functions: distinct, invoked: invoked / calls };
}

// `calls` calls, CONCURRENCY in flight.
const callTimes = (call, calls) => load(call, CONCURRENCY, (started) => started < calls);

async function child({ row: id, calls, rounds, sites }) {
  await fakeDispatch();
  const row = [...ROWS, ...ABLATION_ROWS].find((r) => r.id === id);
  // The URL never reaches a socket: dispatch() is faked, mockTransport never opens one.
  const { call, close } = await row.setup('http://127.0.0.1:9/items/42');
  await callTimes(call, calls * 2);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const before = process.cpuUsage();
    await callTimes(call, calls);
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / calls);
  }
  // Promises created per call (each one reaction job or more on the microtask queue).
  let promises = 0;
  const stop = promiseHooks.onInit(() => {
    promises++;
  });
  await callTimes(call, calls);
  stop();
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const sampled = calls * 5;
  await callTimes(call, sampled);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  // Last: counting calls keeps V8 from optimising some of them away.
  const functions = await functionsPerCall(session, () => callTimes(call, calls), calls);
  session.disconnect();
  await close();
  const bySite = new Map();
  let bytes = 0;
  const walk = (node) => {
    bytes += node.selfSize;
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const site = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const next of node.children) walk(next);
  };
  walk(profile.head);
  const top = [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, sites)
    .map(([site, total]) => [site, Math.round(total / sampled)]);
  return { id, cpuUs: best, bytes: bytes / sampled, promises: promises / calls, ...functions, top };
}

function main() {
  const args = parseArgs(process.argv.slice(2), ['help']);
  if (args.help) {
    console.log(HELP);
    return;
  }
  const all = [...ROWS, ...ABLATION_ROWS];
  const ids = args.only ? String(args.only).split(',') : DEFAULT_ROWS;
  for (const id of ids)
    if (!all.some((r) => r.id === id)) throw new Error(`--only: unknown row ${id}\n${HELP}`);
  const options = {
    calls: positive(args, 'calls', 20_000),
    rounds: positive(args, 'rounds', 7),
    sites: positive(args, 'sites', 0),
  };
  const results = ids.map((id) => {
    const run = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', JSON.stringify({ row: id, ...options })],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    if (run.status !== 0) throw new Error(`row ${id} failed (exit ${run.status})`);
    return JSON.parse(run.stdout.trim().split('\n').pop());
  });
  console.log(
    `in process, dispatch() faked: ${options.calls} calls × ${options.rounds} rounds, ${CONCURRENCY} in flight\n`,
  );
  console.log(
    table(
      [
        'row',
        'CPU µs/call (fastest round)',
        'bytes allocated/call',
        'promises/call',
        'functions/call',
        'function calls/call',
      ],
      results.map((r) => [
        r.id,
        r.cpuUs.toFixed(2),
        Math.round(r.bytes).toLocaleString('en-US'),
        r.promises.toFixed(1),
        r.functions,
        r.invoked.toFixed(0),
      ]),
    ),
  );
  for (const r of results) {
    if (r.top.length === 0) continue;
    console.log(`\n${r.id}: where the bytes are allocated (per call)`);
    for (const [site, bytes] of r.top) console.log(`${String(bytes).padStart(7)}  ${site}`);
  }
}

if (process.argv[2] === '--child') {
  const result = await child(JSON.parse(process.argv[3]));
  console.log(JSON.stringify(result));
} else main();
