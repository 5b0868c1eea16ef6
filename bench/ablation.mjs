// The ablation: CPU µs per call that each middleware adds on its own, in process on mockTransport
// and over the wire with undiciTransport. Run alone (`node bench/ablation.mjs`) or from run.mjs.
import {
  ROUND_HELP,
  fmt,
  perRound,
  roundOptions,
  roundPairs,
  rowStats,
  runRounds,
  startServer,
} from './harness.mjs';
import { ABLATION, ABLATION_ROWS } from './rows.mjs';
import { machine, median, parseArgs, pinningNote, table } from './util.mjs';

const HELP = `usage: node bench/ablation.mjs [options]
${ROUND_HELP}
  --only a,b         only these middleware (${ABLATION.map((m) => m.id).join(', ')})
  --skip-mock        skip the in-process rows (mockTransport)
  --skip-wire        skip the over-the-wire rows (undiciTransport against the bench server)`;

// The mock transport never opens a socket; the URL only has to parse.
const MOCK_URL = 'http://api.test/items/42';
// In process, each round's figure is its fastest slice of this length (see client.mjs).
const SLICE_MS = 50;

function options() {
  const args = parseArgs(process.argv.slice(2), ['skip-mock', 'skip-wire', 'help']);
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }
  let middleware = ABLATION;
  if (args.only) {
    const wanted = String(args.only).split(',');
    for (const id of wanted)
      if (!ABLATION.some((m) => m.id === id))
        throw new Error(`--only: unknown middleware ${id}\n${HELP}`);
    middleware = ABLATION.filter((m) => wanted.includes(m.id));
  }
  const modes = ['mock', 'wire'].filter((mode) => !args[`skip-${mode}`]);
  return { middleware, modes, ...roundOptions(args) };
}

const rowsOf = (mode, middleware) =>
  ['bare', ...middleware.map((m) => m.id)].map((id) =>
    ABLATION_ROWS.find((r) => r.id === `${mode}-${id}`),
  );

async function measure(mode, middleware, opts) {
  const rows = rowsOf(mode, middleware);
  const what = mode === 'mock' ? 'in process, mockTransport' : 'over the wire, undiciTransport';
  console.log(
    `\n${what}: ${rows.length} rows × ${opts.rounds} rounds, ${opts.durationMs / 1000} s each`,
  );
  if (mode === 'mock') return runRounds(rows, { ...opts, sliceMs: SLICE_MS }, { url: MOCK_URL });
  const server = await startServer();
  try {
    return await runRounds(rows, opts, { server });
  } finally {
    await server.close();
  }
}

async function main() {
  const opts = options();
  console.log(
    `middleware ablation — ${new Date().toISOString()}: CPU µs per call added by each middleware ` +
      'alone (the client process, user + system, per call, minus the bare client in the same round)',
  );
  console.log(`machine: ${machine()}`);
  console.log(pinningNote());
  console.log(
    `each row a fresh process per round, rotated order: ${opts.warmupMs / 1000} s warm-up, then ` +
      `${opts.durationMs / 1000} s at ${opts.concurrency} in flight; every call passes pathTemplate`,
  );
  const results = new Map();
  for (const mode of opts.modes) {
    for (const [id, runs] of await measure(mode, opts.middleware, opts)) results.set(id, runs);
  }

  // In process the judged figure is each round's fastest slice; its whole rounds are shown beside.
  const added = (mode, id, field = mode === 'mock' ? 'fastestSliceCpuUs' : 'cpuUsPerReq') => {
    const args = [results, `${mode}-${id}`, `${mode}-bare`, field, (a, b) => a - b];
    const pairs = roundPairs(...args);
    if (pairs.length === 0) return { text: results.has(`${mode}-${id}`) ? 'n/a' : '', value: NaN };
    const value = perRound(...args);
    const spread = `${fmt(Math.min(...pairs), 1)}…${fmt(Math.max(...pairs), 1)}`;
    return { text: `${fmt(value, 2)} (${spread})`, value };
  };
  const bare = (mode, field) => {
    const runs = results.get(`${mode}-bare`);
    const stats = runs ? rowStats(runs) : { na: '' };
    const fastest = () => median(runs.filter((r) => r?.[field] !== undefined).map((r) => r[field]));
    return stats.na ?? fmt(field ? fastest() : stats.cpu, 1);
  };
  const verdict = ({ value }, maxUs) =>
    Number.isNaN(value) ? '' : value <= maxUs ? 'PASS' : 'FAIL';
  const lines = opts.middleware.map(({ id, label = id, maxUs }) => {
    const mock = added('mock', id);
    const whole = added('mock', id, 'cpuUsPerReq');
    const wire = added('wire', id);
    if (maxUs === undefined) return [label, mock.text, whole.text, wire.text, 'reported', '', ''];
    return [
      label,
      mock.text,
      whole.text,
      wire.text,
      `≤ ${maxUs} µs`,
      verdict(mock, maxUs),
      verdict(wire, maxUs),
    ];
  });
  console.log(
    `\n${table(
      [
        'middleware alone',
        'in process µs/call',
        'in process, whole rounds',
        'over the wire µs/call',
        'target',
        'in process',
        'wire',
      ],
      [
        [
          '(bare client, absolute)',
          bare('mock', 'fastestSliceCpuUs'),
          bare('mock'),
          bare('wire'),
          '',
          '',
          '',
        ],
        ...lines,
      ],
    )}`,
  );
  console.log(
    'Each figure is the median over rounds of (row − bare client) in the same round, with the\n' +
      `smallest…largest round in brackets. In process a round's figure is its fastest ${SLICE_MS} ms\n` +
      "slice (the machine's other work left out; its whole rounds beside it). The target (issue 13)\n" +
      'is judged on the in-process column and on the wire; over the wire the socket work adds noise.',
  );
  console.log(`load average after the run: ${machine().split('load average ')[1]}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
