// The benchmark entry point (`npm run bench`): HTTP client rows against a canned raw-TCP server, then
// the middleware ablation, the compose microbenchmark and the rate-limit precision run. Not a test.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ROUND_HELP,
  describeRounds,
  fmt,
  perRound,
  roundArgs,
  roundOptions,
  rowStats,
  runRounds,
  startServer,
} from './harness.mjs';
import { ROWS } from './rows.mjs';
import { machine, parseArgs, pinningNote, table } from './util.mjs';

const SECTIONS = ['wire', 'ablation', 'compose', 'limits'];

const HELP = `usage: node bench/run.mjs [options]
${ROUND_HELP}
  --only a,b         only these rows and/or sections (${SECTIONS.join(', ')}); the baselines and
                     the rows a target compares with are added when needed
  --skip-ablation    skip the middleware ablation (node bench/ablation.mjs runs it alone)
  --skip-compose     skip the compose microbenchmark
  --skip-limits      skip the rate-limit precision run
rows: ${ROWS.map((r) => r.id).join(', ')}`;

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

function options() {
  const flags = ['skip-ablation', 'skip-compose', 'skip-limits', 'help'];
  const args = parseArgs(process.argv.slice(2), flags);
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }
  let rows = ROWS;
  const sections = new Set(SECTIONS.filter((s) => !args[`skip-${s}`]));
  if (args.only) {
    const wanted = new Set(String(args.only).split(','));
    for (const id of wanted)
      if (!SECTIONS.includes(id) && !ROWS.some((r) => r.id === id))
        throw new Error(`--only: unknown row or section ${id}\n${HELP}`);
    for (const section of SECTIONS) if (!wanted.delete(section)) sections.delete(section);
    if (wanted.size > 0) {
      sections.add('wire');
      // Ratios need their baselines, and a target the row it compares with.
      for (const row of ROWS) {
        if (!wanted.has(row.id)) continue;
        for (const t of row.targets ?? []) if (t.vs && t.vs !== 'baseline') wanted.add(t.vs);
      }
      rows = ROWS.filter((r) => r.baseline || wanted.has(r.id));
    }
  }
  return { rows, sections, ...roundOptions(args) };
}

// The tightest baseline: whichever raw undici row was fastest (median req/s) in this run.
function tightestBaseline(rows, stats) {
  let best;
  for (const row of rows) {
    const s = stats.get(row.id);
    if (row.baseline && s.rps !== undefined && (!best || s.rps > stats.get(best).rps))
      best = row.id;
  }
  return best;
}

function report(rows, results, rounds) {
  const stats = new Map(rows.map((row) => [row.id, rowStats(results.get(row.id))]));
  const base = tightestBaseline(rows, stats);
  const ratio = (id, vs, field) => perRound(results, id, vs, field, (a, b) => a / b);
  const label = (id) => rows.find((r) => r.id === id)?.label ?? id;
  const lines = rows.map((row) => {
    const s = stats.get(row.id);
    if (s.na) return [row.label, s.na, '', '', '', '', '', ''];
    return [
      s.rounds < rounds ? `${row.label} (${s.rounds}/${rounds} rounds)` : row.label,
      fmt(s.rps),
      `${fmt(s.min)}–${fmt(s.max)}`,
      fmt(s.cpu, 1),
      `${ratio(row.id, base, 'rps').toFixed(2)}×`,
      `${ratio(row.id, base, 'cpuUsPerReq').toFixed(2)}×`,
      Number.isNaN(s.srv) ? '?' : `${fmt(s.srv)}%`,
      `${fmt(s.cli)}%`,
    ];
  });
  const header = ['row', 'req/s', 'min–max', 'CPU µs/req', 'req/s ×base', 'CPU ×base'];
  console.log(`\n${table([...header, 'server CPU', 'client CPU'], lines)}\n`);
  console.log(
    `base = ${label(base)}, the fastest raw undici row in this run (the tightest baseline).\n` +
      'req/s and CPU µs/req are medians over rounds; each ratio is the median over rounds of the\n' +
      'row against the baseline in the same round. CPU µs/req is the client process (user + system)\n' +
      'per request; server CPU and client CPU are % of one core while the row was measured.',
  );

  // A target as [text, ratio, met], against `baseId` where it names the baseline.
  const judge = (row, t, baseId) => {
    if (t.cpuMax !== undefined) {
      const r = ratio(row.id, baseId, 'cpuUsPerReq');
      return [`${row.label}: CPU/req ≤ ${t.cpuMax.toFixed(2)}× base`, r, r <= t.cpuMax];
    }
    const vs = t.vs === 'baseline' ? baseId : t.vs;
    const r = ratio(row.id, vs, 'rps');
    const name = t.vs === 'baseline' ? 'base' : label(t.vs);
    return [`${row.label}: req/s ≥ ${t.min.toFixed(2)}× ${name}`, r, r >= t.min];
  };
  const targets = rows.flatMap((row) => (row.targets ?? []).map((t) => [row, t]));
  if (targets.length === 0) return;
  const verdict = ([, r, pass]) => (Number.isNaN(r) ? 'n/a' : pass ? 'PASS' : 'FAIL');
  const targetLines = targets.map(([row, t]) => {
    const c = judge(row, t, base);
    return [c[0], `${c[1].toFixed(2)}×`, verdict(c)];
  });
  console.log(
    `\n${table(['target (issue 13; reported, not asserted)', 'measured', ''], targetLines)}`,
  );
  // The targets set against the baseline, judged against each raw row that ran: what the verdicts
  // would be with another base (the issue names undici.request and Agent#request; base is the
  // fastest raw row, Agent#dispatch when it wins).
  const raw = rows.filter((row) => row.baseline && stats.get(row.id).rps !== undefined);
  const againstEach = targets
    .filter(([, t]) => t.cpuMax !== undefined || t.vs === 'baseline')
    .map(([row, t]) => [
      judge(row, t, base)[0],
      ...raw.map((b) => {
        const c = judge(row, t, b.id);
        return `${c[1].toFixed(2)}× ${verdict(c)}`;
      }),
    ]);
  if (againstEach.length > 0 && raw.length > 1) {
    console.log(
      `\n${table(['the same, against each raw row', ...raw.map((b) => b.label)], againstEach)}`,
    );
  }
}

async function wire(opts) {
  console.log(`extapi benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(pinningNote());
  console.log(`${describeRounds(opts.rows.length, opts)}; medians shown\n`);
  const server = await startServer();
  let results;
  try {
    results = await runRounds(opts.rows, opts, { server });
  } finally {
    await server.close();
  }
  report(opts.rows, results, opts.rounds);
  console.log(`load average after the run: ${machine().split('load average ')[1]}`);
}

async function main() {
  const opts = options();
  if (opts.sections.has('wire')) await wire(opts);
  const scripts = {
    ablation: ['./ablation.mjs', ...roundArgs(opts)],
    compose: ['./compose.mjs'],
    limits: ['./limits-precision.mjs'],
  };
  for (const [section, [script, ...args]] of Object.entries(scripts)) {
    if (!opts.sections.has(section)) continue;
    console.log('');
    spawnSync(process.execPath, [here(script), ...args], { stdio: 'inherit' });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
