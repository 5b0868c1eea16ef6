// Small helpers shared by the benchmark scripts: argument parsing, medians, tables, machine info.
// No dependencies; imported by every script here (the fork-and-pin plumbing lives only in this file).
import { fork, spawnSync } from 'node:child_process';
import os from 'node:os';
import { readFileSync } from 'node:fs';

/** `--name value` and `--flag` pairs into an object; numbers stay strings (the caller converts). */
export function parseArgs(argv, booleans = []) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (booleans.includes(name)) out[name] = true;
    else if (inline !== undefined) out[name] = inline;
    else if (i + 1 < argv.length) out[name] = argv[++i];
    else throw new Error(`--${name} needs a value`);
  }
  return out;
}

/** A positive number from an option, or the default; anything else is an error naming the option. */
export function positive(options, name, fallback) {
  if (options[name] === undefined) return fallback;
  const value = Number(options[name]);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} expects a positive number, got ${options[name]}`);
  return value;
}

/**
 * Keeps `concurrency` calls in flight until `until(started)` says stop; resolves with how many
 * completed. A duration is `() => performance.now() < end`, a count `(started) => started < n`.
 */
export async function load(call, concurrency, until) {
  let started = 0;
  let completed = 0;
  async function worker() {
    while (until(started)) {
      started++;
      await call();
      completed++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return completed;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Renders rows (arrays of strings) as an aligned text table; numeric-looking cells align right. */
export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const numeric = /^[-+]?[\d.,]+[×%]?$|^[\d.,]+–[\d.,]+$/;
  const line = (cells) =>
    cells
      .map((c, i) =>
        numeric.test(String(c)) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** CPU model, cores, Node version and load: what a recorded result needs next to it. */
export function machine() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {}
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${model}, ${os.availableParallelism()} cores, Node ${process.version}, load average ${load}`;
}

// The CPUs this process may run on, from `taskset -p` ("0,1" or "0-3"); null without taskset.
function allowedCpus() {
  const out = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  const list = out.status === 0 ? /list:\s*([\d,-]+)/.exec(out.stdout)?.[1] : undefined;
  if (!list) return null;
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/**
 * Where the measured processes run: with `taskset` and two CPUs or more, every client on the first
 * allowed CPU and the server on the last, so they never take turns on one core. `null` otherwise.
 */
export const PINNING = (() => {
  const cpus = allowedCpus();
  if (!cpus || cpus.length < 2) return null;
  return { client: cpus[0], server: cpus[cpus.length - 1] };
})();

/** One line for a report: how the processes were placed. */
export function pinningNote() {
  return PINNING
    ? `pinned with taskset: clients on CPU ${PINNING.client}, server on CPU ${PINNING.server}`
    : 'not pinned (taskset missing or a single CPU): client and server share the cores';
}

/** `fork`, under `taskset -c cpu` when `cpu` is a number (every thread of the child inherits it). */
export function forkOn(cpu, script, args, options) {
  if (typeof cpu !== 'number') return fork(script, args, options);
  return fork(script, args, {
    ...options,
    execPath: 'taskset',
    execArgv: ['-c', String(cpu), process.execPath, ...process.execArgv],
  });
}

/**
 * Forks `script` (with `args`, on CPU `cpu` when given) and sends it `message`, relays its `mark`
 * messages to `onMark`, and resolves with its `result` message; rejects with its `error` message,
 * or if it exits without a result.
 */
export function runChild(script, message, onMark = () => {}, args = [], cpu = undefined) {
  return new Promise((resolve, reject) => {
    const child = forkOn(cpu, script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result;
    child.on('message', (m) => {
      if (m?.type === 'mark') onMark(m);
      else if (m?.type === 'result') result = m.result;
      else if (m?.type === 'error') reject(new Error(m.error));
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`${script} exited with code ${code} and no result`));
    });
    child.send(message);
  });
}
