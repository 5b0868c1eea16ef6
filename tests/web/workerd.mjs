// The checks in Cloudflare workerd: the binary of the npm package `workerd` (pinned in package.json,
// shipped in its platform package @cloudflare/workerd-<os>-<arch>) serves the worker bundle from a
// Cap'n Proto config; a POST to it runs the checks and answers the outcome as JSON. workerd, not
// miniflare: miniflare asks for Node >= 22 and CI's first run is on Node 20.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundle } from './bundle.mjs';
import { startWebServers } from './server.mjs';

const require = createRequire(import.meta.url);
// A hang guard only, far above the few seconds the checks take on a busy machine.
const DEADLINE_MS = 4 * 60_000;

// The worker may reach loopback only (`local`): its outbound fetch goes to the checks' servers on
// 127.0.0.1, which workerd's default `internet` service (public addresses only) refuses.
const CONFIG = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "checks", worker = .checks),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "checks")],
);
const checks :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  globalOutbound = "loopback",
);
`;

/** The workerd binary of the platform package installed for this machine. */
function workerdBinary() {
  const fromPkg = createRequire(require.resolve('workerd/package.json'));
  const arch = { x64: '64', arm64: 'arm64' }[process.arch] ?? process.arch;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@cloudflare/workerd-${os}-${arch}`;
  return join(dirname(fromPkg.resolve(`${pkg}/package.json`)), 'bin', 'workerd');
}

/** Starts workerd on `dir`'s config and resolves with its port (its control fd reports it). */
function serve(dir, output) {
  const child = spawn(workerdBinary(), ['serve', join(dir, 'config.capnp'), '--control-fd=3'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => output.push(String(chunk)));
  child.stderr.on('data', (chunk) => output.push(String(chunk)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = new Promise((resolve, reject) => {
    let buffered = '';
    child.stdio[3].on('data', (chunk) => {
      buffered += chunk;
      for (const line of buffered.split('\n').slice(0, -1)) {
        const event = JSON.parse(line);
        if (event.event === 'listen' && event.socket === 'http') resolve(event.port);
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    child.once('error', reject);
    exited.then((code) => reject(new Error(`workerd exited (${code}): ${output.join('')}`)));
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  return { port, stop };
}

/**
 * Runs the checks in workerd and returns `{ passed, failed, expected, lines, about }`.
 * @example
 * const { passed, failed } = await runWorkerd();
 */
export async function runWorkerd() {
  const dir = mkdtempSync(join(tmpdir(), 'extapi-workerd-'));
  writeFileSync(join(dir, 'worker.js'), await bundle('workerd'));
  writeFileSync(join(dir, 'config.capnp'), CONFIG);
  const servers = await startWebServers();
  const output = [];
  const workerd = serve(dir, output);
  try {
    const port = await workerd.port;
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: JSON.stringify({ api: servers.api.url, other: servers.other.url }),
      signal: AbortSignal.timeout(DEADLINE_MS),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`the worker answered ${res.status}: ${text}`);
    const version = require('workerd/package.json').version;
    return { ...JSON.parse(text), about: `workerd ${version}` };
  } catch (error) {
    error.message += output.length > 0 ? `\nworkerd said:\n${output.join('')}` : '';
    throw error;
  } finally {
    await workerd.stop();
    await servers.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
