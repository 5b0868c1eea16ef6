// The benchmark entry point (`npm run bench`): HTTP client rows against a local keep-alive server,
// then the compose microbenchmark and the rate-limit precision run. A benchmark, not a test.
import { fork, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ROWS } from './rows.mjs';
import { machine, median, parseArgs, positive, runChild, table } from './util.mjs';

const HELP = `usage: node bench/run.mjs [options]
  --rounds N         rounds; each row runs once per round in a fresh process (default 5, at least 3)
  --duration S       seconds measured per row per round (default 2)
  --requests N       measure N requests per row instead of a duration
  --warmup S         seconds of warm-up per row per round (default 1)
  --concurrency N    requests in flight, the same for every row (default 32)
  --only a,b         only these rows (the undici and fetch baselines are added when needed)
  --skip-compose     skip the compose microbenchmark
  --skip-limits      skip the rate-limit precision run
rows: ${ROWS.map((r) => r.id).join(', ')}`;

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

function options() {
  const args = parseArgs(process.argv.slice(2), ['skip-compose', 'skip-limits', 'help']);
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }
  const rounds = positive(args, 'rounds', 5);
  if (!Number.isInteger(rounds) || rounds < 3) throw new Error('--rounds must be an integer >= 3');
  let rows = ROWS;
  if (args.only) {
    const wanted = new Set(String(args.only).split(','));
    for (const id of wanted)
      if (!ROWS.some((r) => r.id === id)) throw new Error(`--only: unknown row ${id}\n${HELP}`);
    // Ratios need their baselines: raw undici always, global fetch for the fetch transport.
    wanted.add('undici');
    if (wanted.has('extapi-fetch')) wanted.add('fetch');
    rows = ROWS.filter((r) => wanted.has(r.id));
  }
  return {
    rows,
    rounds,
    durationMs: positive(args, 'duration', 2) * 1000,
    requests: args.requests === undefined ? 0 : Math.floor(positive(args, 'requests', 0)),
    warmupMs: positive(args, 'warmup', 1) * 1000,
    concurrency: Math.floor(positive(args, 'concurrency', 32)),
    skipCompose: Boolean(args['skip-compose']),
    skipLimits: Boolean(args['skip-limits']),
  };
}

// The server process, with a way to sample its CPU time (to tell whether it, not the client, saturated).
function startServer() {
  return new Promise((resolve, reject) => {
    const child = fork(here('./server.mjs'), [], {
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

async function runRow(server, row, opts) {
  const marks = [];
  const result = await runChild(
    here('./client.mjs'),
    {
      row: row.id,
      url: server.url,
      concurrency: opts.concurrency,
      durationMs: opts.durationMs,
      requests: opts.requests,
      warmupMs: opts.warmupMs,
    },
    () => marks.push(server.stats()),
  );
  if (marks.length === 2) {
    const [a, b] = await Promise.all(marks);
    result.serverCpuPct = ((b.cpuUs - a.cpuUs) / 1000 / (b.at - a.at)) * 100;
  }
  return result;
}

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function summarize(rows, results, rounds) {
  const stats = new Map();
  for (const row of rows) {
    const runs = results.get(row.id) ?? [];
    const ok = runs.filter((r) => r.rps !== undefined);
    if (ok.length === 0) {
      const first = runs.find((r) => r.notBuilt) ?? runs.find((r) => r.error) ?? {};
      stats.set(row.id, {
        na: first.notBuilt
          ? 'n/a (not built)'
          : `error: ${(first.error ?? 'no result').split('\n')[0]}`,
      });
      continue;
    }
    const rps = ok.map((r) => r.rps);
    stats.set(row.id, {
      rps: median(rps),
      min: Math.min(...rps),
      max: Math.max(...rps),
      cpu: median(ok.map((r) => r.cpuUsPerReq)),
      srv: median(ok.map((r) => r.serverCpuPct ?? Number.NaN)),
      cli: median(ok.map((r) => r.clientCpuPct)),
      rounds: ok.length,
    });
  }
  const base = stats.get('undici');
  const verdicts = [];
  const lines = rows.map((row) => {
    const s = stats.get(row.id);
    if (s.na) return [row.label, s.na, '', '', '', '', '', '', '', ''];
    const ratio = base?.rps ? s.rps / base.rps : Number.NaN;
    const cpuRatio = base?.cpu ? s.cpu / base.cpu : Number.NaN;
    let target = '';
    let verdict = '';
    if (row.target) {
      const vs = stats.get(row.target.vs);
      const r = vs?.rps ? s.rps / vs.rps : Number.NaN;
      const parts = [`req/s ≥ ${row.target.min.toFixed(2)}× ${row.target.vs} (${r.toFixed(3)})`];
      let pass = r >= row.target.min;
      if (row.target.cpuMax) {
        parts.push(`CPU ≤ ${row.target.cpuMax.toFixed(2)}× (${cpuRatio.toFixed(3)})`);
        pass &&= cpuRatio <= row.target.cpuMax;
      }
      target = parts.join(', ');
      verdict = Number.isNaN(r) ? 'n/a' : pass ? 'PASS' : 'FAIL';
      verdicts.push(`${row.id}: ${verdict}`);
    }
    return [
      s.rounds < rounds ? `${row.label} (${s.rounds}/${rounds} rounds)` : row.label,
      fmt(s.rps),
      `${fmt(s.min)}–${fmt(s.max)}`,
      fmt(s.cpu, 1),
      `${ratio.toFixed(2)}×`,
      `${cpuRatio.toFixed(2)}×`,
      Number.isNaN(s.srv) ? '?' : `${fmt(s.srv)}%`,
      `${fmt(s.cli)}%`,
      target,
      verdict,
    ];
  });
  return {
    text: table(
      [
        'row',
        'req/s',
        'min–max',
        'CPU µs/req',
        'req/s ×undici',
        'CPU ×undici',
        'server CPU',
        'client CPU',
        'target',
        '',
      ],
      lines,
    ),
    verdicts,
  };
}

async function main() {
  const opts = options();
  const measure = opts.requests > 0 ? `${opts.requests} requests` : `${opts.durationMs / 1000} s`;
  console.log(`extapi benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(
    `${opts.rows.length} rows × ${opts.rounds} rounds (rotated order), each a fresh process: ` +
      `${opts.warmupMs / 1000} s warm-up, then ${measure} at ${opts.concurrency} in flight; medians shown\n`,
  );
  const server = await startServer();
  const results = new Map();
  const notBuilt = new Set();
  try {
    for (let round = 0; round < opts.rounds; round++) {
      // Rotate the order each round so no row always runs first (or right after the same neighbour).
      const order = opts.rows.map((_, i) => opts.rows[(i + round) % opts.rows.length]);
      const line = [];
      for (const row of order) {
        if (notBuilt.has(row.id)) continue;
        const result = await runRow(server, row, opts);
        if (!results.has(row.id)) results.set(row.id, []);
        results.get(row.id).push(result);
        // Not built from the start: skip it from now on. A row that worked before (a package being
        // rebuilt under us) is tried again next round, and the table says how many rounds it has.
        if (result.notBuilt && !results.get(row.id).some((r) => r.rps !== undefined)) {
          notBuilt.add(row.id);
        }
        line.push(
          result.rps !== undefined
            ? `${row.id} ${fmt(result.rps)}`
            : `${row.id} ${result.notBuilt ? 'n/a' : 'error'}`,
        );
        if (result.error) console.error(`  ${row.id}: ${result.error}`);
      }
      console.log(`round ${round + 1}/${opts.rounds}: ${line.join(' · ')}`);
    }
  } finally {
    await server.close();
  }
  const { text } = summarize(opts.rows, results, opts.rounds);
  console.log(`\n${text}\n`);
  console.log(
    'req/s and CPU are medians over rounds; ratios compare medians with raw undici.request in the same run.\n' +
      'CPU µs/req is the client process (user+system) per request; server/client CPU are % of one core.',
  );
  console.log(`load average after the run: ${machine().split('load average ')[1]}`);

  if (!opts.skipCompose) {
    console.log('');
    spawnSync(process.execPath, [here('./compose.mjs')], { stdio: 'inherit' });
  }
  if (!opts.skipLimits) {
    console.log('');
    spawnSync(process.execPath, [here('./limits-precision.mjs')], { stdio: 'inherit' });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
