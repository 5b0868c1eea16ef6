// Runs one benchmark row in a fresh process: warm-up, then a timed load at fixed concurrency.
// Forked by harness.mjs, which sends the options and gets one JSON result back over IPC.
import { performance } from 'node:perf_hooks';
import { ABLATION_ROWS, ROWS } from './rows.mjs';
import { load } from './util.mjs';

/**
 * The run's stop test, also timing slices of `sliceMs`: the CPU per request of the fastest one is
 * the code's own cost, with the stretches where the machine's other work slowed the process left
 * out (as alloc.mjs keeps its fastest round). Reads the clock for it every 128 calls started.
 */
function sliced(stop, sliceMs) {
  let fastest = Number.POSITIVE_INFINITY;
  let from = 0;
  let cpu0 = process.cpuUsage();
  let sliceEnd = performance.now() + sliceMs;
  const until = (started) => {
    if ((started & 127) === 0 && started > from) {
      const now = performance.now();
      if (now >= sliceEnd) {
        const cpu = process.cpuUsage(cpu0);
        fastest = Math.min(fastest, (cpu.user + cpu.system) / (started - from));
        cpu0 = process.cpuUsage();
        from = started;
        sliceEnd = now + sliceMs;
      }
    }
    return stop(started);
  };
  return { until, fastest: () => fastest };
}

async function run({ row: id, url, concurrency, durationMs, requests, warmupMs, sliceMs = 0 }) {
  const row = [...ROWS, ...ABLATION_ROWS].find((r) => r.id === id);
  if (!row) throw new Error(`unknown row ${id}`);
  let client;
  try {
    client = await row.setup(url);
  } catch (error) {
    if (error?.code === 'NOT_BUILT') return { row: id, notBuilt: error.message };
    throw error;
  }
  // Warm-up: JIT, connection pool and lazy initialisation are not part of the measurement.
  const warmEnd = performance.now() + warmupMs;
  await load(client.call, concurrency, () => performance.now() < warmEnd);

  process.send({ type: 'mark', phase: 'start' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  const stop = requests > 0 ? (started) => started < requests : () => performance.now() < end;
  const slices = sliceMs > 0 ? sliced(stop, sliceMs) : undefined;
  const done = await load(client.call, concurrency, slices?.until ?? stop);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.send({ type: 'mark', phase: 'end' });
  await client.close();
  return {
    row: id,
    requests: done,
    elapsedMs,
    rps: done / (elapsedMs / 1000),
    cpuUsPerReq: (cpu.user + cpu.system) / done,
    // With sliceMs: the fastest slice's CPU per request (see sliced()); a run shorter than one
    // slice is its own only slice.
    fastestSliceCpuUs: slices && Math.min(slices.fastest(), (cpu.user + cpu.system) / done),
    // Share of one core the client used: near 100 % means the client is the bottleneck.
    clientCpuPct: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
  };
}

process.once('message', async (options) => {
  try {
    const result = await run(options);
    process.send({ type: 'result', result }, () => process.exit(0));
  } catch (error) {
    const result = { row: options.row, error: String(error?.stack ?? error) };
    process.send({ type: 'result', result }, () => process.exit(1));
  }
});
