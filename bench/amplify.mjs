// What a microsecond of in-process work costs over the wire: the raw undici dispatch() row, alone
// and with one kind of synthetic work added to each call (a spin, short-lived objects, distinct code,
// a chain of `.then` on the answer), each timed in a hot loop and over the wire. Explains why the
// in-process ablation understates the wire.
import { Agent } from 'undici';
import { benchEntry, runSelf, startServer } from './harness.mjs';
import { TextHandler } from './rows.mjs';
import {
  load,
  machine,
  median,
  parseArgs,
  PINNING,
  pinningNote,
  positive,
  table,
} from './util.mjs';

const HELP = `usage: node bench/amplify.mjs [--rounds N] [--slice S]
  --rounds N   interleaved rounds over the wire (default 11)
  --slice S    seconds each variant runs per round (default 1)`;

// Where each variant's result goes, so that the optimiser cannot drop the work.
const kept = { value: undefined };
// 128 objects of four fields a call, linked so that they stay alive until the call ends, as a call's own do.
function objects() {
  let head = null;
  for (let i = 0; i < 128; i++) head = { a: i, b: head, c: null, d: 0 };
  return head;
}
// 100 functions that differ in their constants: as much code as a stack of middleware touches per call.
const FUNCTIONS = Array.from(
  { length: 100 },
  (_, i) =>
    new Function(
      'o',
      `let s = o.a * ${i + 1}; if (o.b > ${i}) s += o.c ^ ${i * 7}; else s -= ${i};
       for (let k = 0; k < 3; k++) s = (s * 31 + k + ${i}) | 0; return s ^ o.d;`,
    ),
);
function code() {
  const o = { a: 1, b: 200, c: 3, d: 4 };
  let s = 0;
  for (const fn of FUNCTIONS) s += fn(o);
  return s;
}
function spin() {
  const end = performance.now() + 0.003;
  while (performance.now() < end);
}

/**
 * The synthetic work of each variant: `before` done once per call before its request, or `thens`
 * reactions chained on its answer (the promises a stack of middleware adds, one per layer that
 * looks at the response).
 */
const VARIANTS = {
  none: {},
  'spin 3 µs': { before: spin },
  '128 objects (7 KB)': { before: objects },
  '100 distinct functions': { before: code },
  '24 `.then` on the answer': { thens: 24 },
};

// Distinct reactions, as distinct layers' are: one function per link of the chain.
const REACTIONS = Array.from({ length: 24 }, (_, i) => new Function('x', `return x; // ${i}`));
function chained(promise, thens = 0) {
  let p = promise;
  for (let i = 0; i < thens; i++) p = p.then(REACTIONS[i]);
  return p;
}

// 32 calls in flight for `ms`, as run.mjs's rows; resolves with how many completed.
const loadFor = (call, ms) => {
  const end = performance.now() + ms;
  return load(call, 32, () => performance.now() < end);
};

// CPU µs per call of `calls` calls of `run`, one after another (each awaited when it is async).
async function cpuPerCall(run, calls) {
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) kept.value = await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

// The child, pinned where run.mjs pins its clients: every variant in process, then over the wire.
async function work({ url, rounds, sliceMs }) {
  const { origin, pathname } = new URL(url);
  const agent = new Agent({ keepAliveTimeout: 60_000 });
  const options = { origin, path: pathname, method: 'GET' };
  // In process: the work alone, on an answer that is already there (a resolved promise).
  const inProcess = {};
  const ANSWER = Promise.resolve(0);
  for (const [name, { before, thens }] of Object.entries(VARIANTS)) {
    const run = () => {
      kept.value = before?.();
      return chained(ANSWER, thens);
    };
    await cpuPerCall(run, 20_000);
    const rounds = [];
    for (let i = 0; i < 5; i++) rounds.push(await cpuPerCall(run, 100_000));
    inProcess[name] = median(rounds);
  }
  const calls = Object.fromEntries(
    Object.entries(VARIANTS).map(([name, { before, thens }]) => [
      name,
      async () => {
        const held = before?.();
        await chained(
          new Promise((resolve, reject) =>
            agent.dispatch(options, new TextHandler(resolve, reject)),
          ),
          thens,
        );
        kept.value = held;
      },
    ]),
  );
  for (const call of Object.values(calls)) await loadFor(call, 1500);
  const wire = Object.fromEntries(Object.keys(calls).map((name) => [name, []]));
  const names = Object.keys(calls);
  for (let round = 0; round < rounds; round++) {
    // Rotated by one each round, as harness.mjs does: no variant always follows the same one.
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length];
      const call = calls[name];
      const before = process.cpuUsage();
      const done = await loadFor(call, sliceMs);
      const used = process.cpuUsage(before);
      wire[name].push((used.user + used.system) / done);
    }
  }
  await agent.close();
  return { inProcess, wire };
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['help']);
  if (args.help) return console.log(HELP);
  const rounds = positive(args, 'rounds', 11);
  const sliceMs = positive(args, 'slice', 1) * 1000;
  console.log(`machine: ${machine()}\n${pinningNote()}`);
  const server = await startServer();
  const { inProcess, wire } = await runSelf(
    import.meta.url,
    { url: server.url, rounds, sliceMs },
    PINNING?.client,
  );
  await server.close();
  const base = wire.none;
  const rows = Object.keys(VARIANTS).map((name) => {
    const added = median(wire[name].map((us, round) => us - base[round]));
    const own = inProcess[name] - inProcess.none;
    return [
      name,
      own.toFixed(2),
      median(wire[name]).toFixed(1),
      name === 'none' ? '' : added.toFixed(2),
      name === 'none' ? '' : `${(added / own).toFixed(1)}×`,
    ];
  });
  console.log(
    `\n${rounds} interleaved rounds (rotated order) of ${sliceMs / 1000} s per variant over the wire, 32 in flight\n`,
  );
  console.log(
    table(
      [
        'work added per call',
        'in process µs',
        'wire CPU µs/req',
        'wire µs added',
        'wire ÷ in process',
      ],
      rows,
    ),
  );
  console.log('\n"wire µs added" is the median over rounds of (variant − none) in the same round.');
}

benchEntry(main, work);
