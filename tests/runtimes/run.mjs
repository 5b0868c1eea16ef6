// Runs main.mjs on Node (the one running this script), Bun and Deno — the last two from the exact
// versions pinned in package.json, whose binaries the npm registry ships in platform packages
// (@oven/bun-<os>-<arch>, @deno/<os>-<arch>[-glibc]) — and prints one line per runtime. A runtime's
// whole log is printed when it fails (or always with --verbose). Exits 1 on any failure.
// Usage: node run.mjs [--verbose] [node|bun|deno …]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
// A hang guard for a whole runtime, far above the ~10 s a run takes on a quiet machine.
const RUNTIME_DEADLINE_MS = 10 * 60_000;

const RUNTIMES = {
  node: () => [process.execPath, ['main.mjs']],
  bun: () => [platformBinary('bun', bunPackages(), 'bin/bun'), ['main.mjs']],
  // -A: the checks open servers and sockets on 127.0.0.1 and read the environment.
  deno: () => [platformBinary('deno', denoPackages(), 'deno'), ['run', '-A', 'main.mjs']],
};

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const chosen = args.filter((a) => !a.startsWith('--'));
const names = chosen.length > 0 ? chosen : Object.keys(RUNTIMES);
const total = { passed: 0, failed: 0 };
let failed = false;
for (const name of names) {
  if (!RUNTIMES[name]) throw new Error(`unknown runtime ${name}; expected one of node, bun, deno`);
  const { code, output } = await runOn(name);
  const counts = output.match(new RegExp(`^${name}: (\\d+) passed, (\\d+) failed$`, 'm'));
  const about = output.match(/^runtime: (.*)$/m)?.[1] ?? name;
  const ok = code === 0 && counts !== null;
  if (!ok || verbose) console.log(output.trimEnd().replace(/^/gm, `  ${name} | `));
  total.passed += Number(counts?.[1] ?? 0);
  // A run that ended without its summary (a crash, a hang) counts as one failure.
  total.failed += counts ? Number(counts[2]) : 1;
  console.log(
    ok
      ? `runtimes: ${about} — ${counts[1]} passed, ${counts[2]} failed`
      : `runtimes: ${name} FAILED (exit ${code})${counts ? ` — ${counts[0]}` : ''}`,
  );
  failed ||= !ok;
}
console.log(`runtimes: ${total.passed} passed, ${total.failed} failed`);
process.exit(failed ? 1 : 0);

/** Runs one runtime on main.mjs and collects its output (stdout and stderr interleaved). */
async function runOn(name) {
  let command;
  try {
    command = RUNTIMES[name]();
  } catch (error) {
    return { code: 'not installed', output: String(error.message) };
  }
  const [bin, argv] = command;
  const child = spawn(bin, argv, {
    cwd: HERE,
    // No update checks or prompts: CI reaches the npm registry only.
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUNTIME_DEADLINE_MS);
  const code = await new Promise((resolve) => {
    child.once('error', (error) => {
      output += `\ncould not start ${bin}: ${error.message}`;
      resolve('spawn error');
    });
    child.once('close', (exit, signal) => resolve(signal ?? exit));
  });
  clearTimeout(timer);
  return { code, output };
}

/** The binary of the first platform package of `pkg` installed for this machine. */
function platformBinary(pkg, candidates, file) {
  const fromPkg = createRequire(require.resolve(`${pkg}/package.json`));
  for (const candidate of candidates) {
    let dir;
    try {
      dir = dirname(fromPkg.resolve(`${candidate}/package.json`));
    } catch {
      continue;
    }
    if (existsSync(join(dir, file))) return join(dir, file);
  }
  throw new Error(
    `no ${pkg} binary for ${process.platform}-${process.arch}: none of ${candidates.join(', ')} is installed (run the workspace install)`,
  );
}

function bunPackages() {
  const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
  const base = `@oven/bun-${process.platform}-${arch}`;
  return [base, `${base}-musl`, `${base}-baseline`];
}

function denoPackages() {
  const os = process.platform === 'win32' ? 'win32' : process.platform;
  return [`@deno/${os}-${process.arch}-glibc`, `@deno/${os}-${process.arch}`];
}
