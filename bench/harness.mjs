// Interleaved rounds of rows, each row a fresh client process per round, against the bench server.
// Shared by run.mjs (the speed table) and ablation.mjs (the per-middleware costs).
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { PINNING, forkOn, median, positive, runChild } from './util.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** Help text for the options {@link roundOptions} reads. */
export const ROUND_HELP = `  --rounds N         rounds; each row runs once per round in a fresh process (default 5, at least 3)
  --duration S       seconds measured per row per round (default 2)
  --requests N       measure N requests per row instead of a duration
  --warmup S         seconds of warm-up per row per round (default 2)
  --concurrency N    requests in flight, the same for every row (default 32)`;

/** The round settings from parsed arguments, with their defaults. */
export function roundOptions(args) {
  const rounds = positive(args, 'rounds', 5);
  if (!Number.isInteger(rounds) || rounds < 3) throw new Error('--rounds must be an integer >= 3');
  return {
    rounds,
    durationMs: positive(args, 'duration', 2) * 1000,
    requests: args.requests === undefined ? 0 : Math.floor(positive(args, 'requests', 0)),
    warmupMs: positive(args, 'warmup', 2) * 1000,
    concurrency: Math.floor(positive(args, 'concurrency', 32)),
  };
}

/** The same settings as arguments, to hand on to another bench script. */
export function roundArgs(opts) {
  const args = ['--rounds', opts.rounds, '--warmup', opts.warmupMs / 1000];
  args.push('--concurrency', opts.concurrency);
  if (opts.requests > 0) args.push('--requests', opts.requests);
  else args.push('--duration', opts.durationMs / 1000);
  return args.map(String);
}

/** One line describing the rounds, for the report. */
export function describeRounds(count, opts) {
  const measure = opts.requests > 0 ? `${opts.requests} requests` : `${opts.durationMs / 1000} s`;
  return (
    `${count} rows × ${opts.rounds} rounds (rotated order), each a fresh process: ` +
    `${opts.warmupMs / 1000} s warm-up, then ${measure} at ${opts.concurrency} in flight`
  );
}

/**
 * Forks the raw-TCP bench server (on its own CPU when pinned), with `stats()` to sample its CPU time
 * (to tell whether it, not the client, saturated) and `close()`.
 */
export function startServer() {
  return new Promise((resolve, reject) => {
    const child = forkOn(PINNING?.server, here('./server.mjs'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const waiting = new Map();
    let ids = 0;
    child.on('message', (m) => {
      if (m?.type === 'ready') {
        resolve({
          url: m.url,
          stats: () =>
            new Promise((done) => {
              const id = ++ids;
              waiting.set(id, done);
              child.send({ type: 'stats', id });
            }),
          close: () => new Promise((done) => child.once('exit', done).send({ type: 'close' })),
        });
      } else if (m?.type === 'stats') {
        waiting.get(m.id)?.({ ...m, at: performance.now() });
        waiting.delete(m.id);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`bench server exited with code ${code}`)));
  });
}

// One row once, in a fresh client process; with a server, its CPU share while the row was measured.
async function runRow(server, url, id, opts) {
  const marks = [];
  const message = { row: id, url, ...opts };
  const onMark = server ? () => marks.push(server.stats()) : undefined;
  const result = await runChild(here('./client.mjs'), message, onMark, [], PINNING?.client);
  if (marks.length === 2) {
    const [a, b] = await Promise.all(marks);
    result.serverCpuPct = ((b.cpuUs - a.cpuUs) / 1000 / (b.at - a.at)) * 100;
  }
  return result;
}

/**
 * Runs every row once per round, in an order rotated by one each round (no row always first, or
 * always after the same neighbour). Against `server`, or with no server at `url` (mock rows).
 * Resolves with a map from row id to its results by round (`rps`, `cpuUsPerReq`, … or `notBuilt`
 * or `error`); prints one line per round.
 */
export async function runRounds(rows, opts, { server, url = server?.url } = {}) {
  const results = new Map(rows.map((row) => [row.id, []]));
  const { rounds, ...load } = opts;
  for (let round = 0; round < rounds; round++) {
    const line = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[(i + round) % rows.length];
      const result = await runRow(server, url, row.id, load);
      // A row that is not built (or a package being rebuilt under us) is tried again every round:
      // it costs one process start, and the table says how many rounds it has.
      results.get(row.id)[round] = result;
      const shown =
        result.cpuUsPerReq === undefined ? 'n/a' : `${result.cpuUsPerReq.toFixed(1)} µs`;
      line.push(`${row.id} ${result.rps === undefined ? shown : `${fmt(result.rps)}/s ${shown}`}`);
      if (result.error) console.error(`  ${row.id}: ${result.error}`);
    }
    console.log(`round ${round + 1}/${rounds}: ${line.join(' · ')}`);
  }
  return results;
}

/** A number with thousands separators and `digits` decimals. */
export const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const ok = (run) => run?.rps !== undefined;

/** A row's medians over its rounds, or `{ na }` saying why it has none. */
export function rowStats(runs) {
  const good = runs.filter(ok);
  if (good.length === 0) {
    const first = runs.find((r) => r?.notBuilt) ?? runs.find((r) => r?.error) ?? {};
    const na = first.notBuilt
      ? 'n/a (not built)'
      : `error: ${(first.error ?? 'none').split('\n')[0]}`;
    return { na };
  }
  const rps = good.map((r) => r.rps);
  return {
    rps: median(rps),
    min: Math.min(...rps),
    max: Math.max(...rps),
    cpu: median(good.map((r) => r.cpuUsPerReq)),
    srv: median(good.map((r) => r.serverCpuPct ?? Number.NaN)),
    cli: median(good.map((r) => r.clientCpuPct)),
    rounds: good.length,
  };
}

/**
 * The median over rounds of `combine(row's figure, base's figure)`, each pair from the same round,
 * so that load which changes between rounds (a shared machine) moves both sides alike. NaN if the
 * two never ran in the same round.
 */
export function perRound(results, id, baseId, field, combine) {
  const pairs = roundPairs(results, id, baseId, field, combine);
  return pairs.length ? median(pairs) : Number.NaN;
}

/** Every round's `combine(row's figure, base's figure)`, for rounds where both ran. */
export function roundPairs(results, id, baseId, field, combine) {
  const base = results.get(baseId) ?? [];
  return (results.get(id) ?? []).flatMap((run, round) =>
    ok(run) && ok(base[round]) ? [combine(run[field], base[round][field])] : [],
  );
}

/**
 * The entry of a bench script that measures parts of itself in fresh processes: started with
 * `--child` (by {@link runSelf}) it answers the parent's one message with `await work(message)`
 * and exits; otherwise it runs `main`. A failure exits non-zero with its stack.
 */
export function benchEntry(main, work) {
  if (!process.argv.includes('--child')) {
    main().catch((error) => {
      console.error(error);
      process.exit(1);
    });
    return;
  }
  process.once('message', async (message) => {
    try {
      process.send({ type: 'result', result: await work(message) }, () => process.exit(0));
    } catch (error) {
      process.send({ type: 'error', error: String(error?.stack ?? error) }, () => process.exit(1));
    }
  });
}

/** Runs `work(message)` of the bench script `url` (its `import.meta.url`) in a fresh child process. */
export function runSelf(url, message, cpu = undefined) {
  return runChild(fileURLToPath(url), message, undefined, ['--child'], cpu);
}
