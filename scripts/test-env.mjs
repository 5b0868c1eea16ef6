// Runs a command with the services the tests need, so that `npm test` works on a fresh machine as
// it does in CI: installs redis-server, tinyproxy and chromium with apt-get when they are missing
// (and it may), starts Redis and a Redis Cluster (3 masters, 3 replicas) on free loopback ports, exports
// REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SERVER_BIN and TINYPROXY_BIN, runs the command, and stops
// what it started. Usage: node scripts/test-env.mjs <command> [args…]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { constants as os, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const say = (line) => console.log(`test-env: ${line}`);
const SCRIPTS = dirname(fileURLToPath(import.meta.url));

// ─── Service launchers ───────────────────────────────────────────────────────────────────────────
// Each launcher is an async function that makes one service available and returns
// `{ env, stop }`: the variables the tests read, and how to stop it (called once, after the
// command, also on failure or Ctrl-C). An extra service (e.g. a Redis Cluster) plugs in as one more
// entry of SERVICES; a launcher that is a shell script can be wrapped with `scriptLauncher` below.
const SERVICES = [redis, tinyproxy, redisCluster];

/** A real Redis for the distributed limits: REDIS_URL when set, else our own on a free port. */
async function redis() {
  const bin = findBinary('REDIS_SERVER_BIN', 'redis-server', ['/usr/bin/redis-server']);
  const env = bin ? { REDIS_SERVER_BIN: bin } : {};
  if (process.env.REDIS_URL) {
    say(`redis: using REDIS_URL=${process.env.REDIS_URL}`);
    return { env, stop: async () => {} };
  }
  if (!bin) {
    say('redis: redis-server not found; the distributed-limit tests will fail.');
    say('       Install it (apt-get install redis-server, brew install redis) or set REDIS_URL.');
    return { env, stop: async () => {} };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'extapi-redis-'));
  // No persistence, loopback only: a throwaway server for this run.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(bin, [...args, '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForPort(port, 5_000))) {
    await stop();
    throw new Error(`redis-server did not listen on 127.0.0.1:${port} within 5 s`);
  }
  const url = `redis://127.0.0.1:${port}`;
  say(`redis: started ${bin} on ${url}`);
  return { env: { ...env, REDIS_URL: url }, stop };
}

/** tinyproxy for the proxy tests: each test starts its own from TINYPROXY_BIN (core's test kit). */
async function tinyproxy() {
  const bin = findBinary('TINYPROXY_BIN', 'tinyproxy', [
    '/usr/bin/tinyproxy',
    '/usr/sbin/tinyproxy',
  ]);
  if (!bin) {
    say('tinyproxy: not found; the proxy tests will fail (with CI set) or skip.');
    say(
      '           Install it (apt-get install tinyproxy, brew install tinyproxy) or set TINYPROXY_BIN.',
    );
    return { env: {}, stop: async () => {} };
  }
  say(`tinyproxy: ${bin}`);
  return { env: { TINYPROXY_BIN: bin }, stop: async () => {} };
}

/**
 * A Redis Cluster for the tests of the Redis-shared middleware on Cluster: REDIS_CLUSTER_NODES
 * when set, else scripts/redis-cluster.sh. Without redis-server and redis-cli it says so and the
 * cluster tests fail (they never skip); with CI set, `npm test` fails here at once.
 */
async function redisCluster(env) {
  if (process.env.REDIS_CLUSTER_NODES) {
    say(`redis cluster: using REDIS_CLUSTER_NODES=${process.env.REDIS_CLUSTER_NODES}`);
    return { env: {}, stop: async () => {} };
  }
  try {
    return await scriptLauncher(join(SCRIPTS, 'redis-cluster.sh'), ['serve'])(env);
  } catch (error) {
    if (process.env.CI) throw new Error(`redis cluster: ${error.message}`);
    say(`redis cluster: not started (${error.message}); the Redis Cluster tests will fail.`);
    say('               Install redis-server and redis-cli, or set REDIS_CLUSTER_NODES.');
    return { env: {}, stop: async () => {} };
  }
}

/**
 * Wraps a launcher script: started with `args` and the environment the services before it made,
 * it must print `KEY=value` lines for the tests followed by a line `READY`, and is stopped with
 * SIGTERM after the command.
 * @example
 * const SERVICES = [redis, tinyproxy, scriptLauncher('scripts/my-service.sh', ['serve'])];
 */
export function scriptLauncher(path, args = []) {
  return async function launch(env = process.env) {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const exported = {};
    await new Promise((resolve, reject) => {
      let buffered = '';
      child.once('exit', (code) => reject(new Error(`${path} exited (${code}) before READY`)));
      child.stdout.on('data', (chunk) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === 'READY') return resolve();
          const eq = line.indexOf('=');
          if (eq > 0) exported[line.slice(0, eq)] = line.slice(eq + 1);
        }
      });
    });
    say(`${path}: ${Object.keys(exported).join(', ') || 'ready'}`);
    return {
      env: exported,
      stop: async () => {
        child.kill('SIGTERM');
        await exited;
      },
    };
  };
}

// ─── Installing what is missing ──────────────────────────────────────────────────────────────────

/** An executable named by `envName`, on PATH, or at one of `paths`; `undefined` when none. */
function findBinary(envName, command, paths) {
  const fromEnv = process.env[envName];
  if (fromEnv && isExecutable(fromEnv)) return fromEnv;
  const onPath = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  return paths.find(isExecutable);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** apt-get install of the Debian packages whose binaries are missing, as root or with `sudo -n`. */
function installMissing() {
  const missing = [];
  if (!findBinary('REDIS_SERVER_BIN', 'redis-server', ['/usr/bin/redis-server']))
    missing.push('redis-server');
  if (!findBinary('TINYPROXY_BIN', 'tinyproxy', ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy']))
    missing.push('tinyproxy');
  // tests/web runs its checks in Debian's headless Chromium (and fails, never skips, without it).
  if (!findBinary('CHROMIUM_BIN', 'chromium', ['/usr/bin/chromium'])) missing.push('chromium');
  if (missing.length === 0) return;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  const isRoot = process.getuid?.() === 0;
  const canSudo = !isRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (process.env.EXTAPI_NO_INSTALL || !hasApt || (!isRoot && !canSudo)) {
    const why = process.env.EXTAPI_NO_INSTALL
      ? 'EXTAPI_NO_INSTALL is set'
      : !hasApt
        ? 'no apt-get on this machine'
        : 'not root and sudo needs a password';
    say(`missing ${missing.join(' and ')}; not installing them (${why}).`);
    return;
  }
  const run = (args) =>
    execFileSync(isRoot ? args[0] : 'sudo', isRoot ? args.slice(1) : ['-n', ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  say(`installing ${missing.join(' and ')} with apt-get (once; later runs find them)`);
  try {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
  } catch (error) {
    say(
      `apt-get failed (${error.message.split('\n')[0]}); continuing without ${missing.join(', ')}`,
    );
  }
}

// ─── Ports ───────────────────────────────────────────────────────────────────────────────────────

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, withinMs) {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

// ─── Main ────────────────────────────────────────────────────────────────────────────────────────

const [command, ...args] = process.argv.slice(2).filter((arg, i) => i > 0 || arg !== '--');
if (!command) {
  console.error('usage: node scripts/test-env.mjs <command> [args…]');
  process.exit(2);
}

installMissing();
const started = [];
let exitCode = 1;
let stopping;
const stopAll = () => {
  stopping ??= Promise.allSettled(started.map((service) => service.stop()));
  return stopping;
};
try {
  const env = { ...process.env };
  for (const launch of SERVICES) {
    const service = await launch(env);
    started.push(service);
    Object.assign(env, service.env);
  }
  const child = spawn(command, args, { stdio: 'inherit', env });
  // Ctrl-C reaches the child through the terminal; a SIGTERM to us is passed on.
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', () => {});
  process.on('SIGTERM', forward);
  exitCode = await new Promise((resolve) => {
    child.once('error', (error) => {
      console.error(`test-env: cannot run ${command}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (os.signals[signal] ?? 0)));
  });
} catch (error) {
  console.error(`test-env: ${error.message}`);
} finally {
  await stopAll();
}
process.exit(exitCode);
