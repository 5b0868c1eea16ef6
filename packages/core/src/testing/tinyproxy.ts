// A real forward proxy for proxy tests: Debian's tinyproxy, started on a free 127.0.0.1 port with a
// generated config and stopped after. Test kit only; `.ci/run` installs tinyproxy and exports TINYPROXY_BIN.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net.js';

/** Options of {@link startTinyproxy}. */
export interface TinyproxyOptions {
  /** Require these credentials (`BasicAuth`): requests without them get 407. @default none */
  basicAuth?: {
    /** The user name clients must send. */
    username: string;
    /** The password clients must send. */
    password: string;
  };
  /** Ports CONNECT may reach (`ConnectPort`); tinyproxy allows every port when none is listed. @default all */
  connectPorts?: number[];
}

/** A running tinyproxy. */
export interface Tinyproxy {
  /** `http://127.0.0.1:<port>`, without credentials. */
  readonly url: string;
  /** The port the proxy listens on, at 127.0.0.1. */
  readonly port: number;
  /** tinyproxy's log so far: one `Request (…): GET http://…` or `CONNECT host:port` line per request. */
  log(): string;
  /** Stops the proxy (SIGTERM, then SIGKILL) and removes its files. */
  close(): Promise<void>;
}

const CANDIDATES = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy'];

/**
 * The tinyproxy binary: `TINYPROXY_BIN`, else the usual Debian paths, else `undefined`.
 * Proxy tests skip (with the reason in their title) only outside CI; with `CI` set they must run.
 * @example
 * const describeProxy = findTinyproxy() || process.env.CI ? describe : describe.skip;
 */
export function findTinyproxy(): string | undefined {
  const fromEnv = process.env.TINYPROXY_BIN;
  if (fromEnv) return fromEnv;
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * Starts tinyproxy in the foreground on a free port of 127.0.0.1 (loopback clients only, no
 * syslog, its PID and log files in a fresh temp dir) and resolves once it accepts connections.
 * Rejects with a clear error when tinyproxy is missing or does not start within 5 s.
 * @example
 * const proxy = await startTinyproxy({ basicAuth: { username: 'user', password: 'pass' } });
 * try { ... undiciTransport({ proxy: proxy.url, proxyAuth: { username: 'user', password: 'pass' } }) ... }
 * finally { await proxy.close(); }
 */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const bin = findTinyproxy();
  if (!bin) {
    throw new Error(
      'tinyproxy is not installed: apt-get install tinyproxy, or set TINYPROXY_BIN (.ci/run does both)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'extapi-tinyproxy-'));
  const logFile = join(dir, 'tinyproxy.log');
  const { basicAuth, connectPorts = [] } = options;
  let output = '';
  for (let tries = 0; ; tries++) {
    // The port is free when chosen but may be taken before tinyproxy binds it: then try another.
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 30',
      'Allow 127.0.0.1',
      'MaxClients 64',
      `LogFile "${logFile}"`,
      `PidFile "${join(dir, 'tinyproxy.pid')}"`,
      'LogLevel Connect',
      'Syslog Off',
      ...connectPorts.map((connectPort) => `ConnectPort ${connectPort}`),
      ...(basicAuth ? [`BasicAuth ${basicAuth.username} ${basicAuth.password}`] : []),
    ];
    writeFileSync(join(dir, 'tinyproxy.conf'), `${config.join('\n')}\n`);
    const started = spawn(bin, ['-d', '-c', join(dir, 'tinyproxy.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let exited = false;
    started.once('exit', () => {
      exited = true;
    });
    started.once('error', (error) => {
      exited = true;
      output += String(error);
    });
    started.stdout?.on('data', (chunk) => (output += chunk));
    started.stderr?.on('data', (chunk) => (output += chunk));
    if (await waitForPort(port, () => exited)) {
      return {
        url: `http://127.0.0.1:${port}`,
        port,
        log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
        close: () => stop(started, dir),
      };
    }
    const spawnFailed = started.pid === undefined;
    await stop(started, dir, tries < 2 && !spawnFailed);
    // Only a port taken in the meantime is worth another try; a binary that cannot run is not.
    if (tries >= 2 || spawnFailed) {
      throw new Error(`tinyproxy (${bin}) did not start on 127.0.0.1:${port}: ${output}`);
    }
  }
}

function stop(child: ChildProcess, dir: string, keepDir = false): Promise<void> {
  return new Promise((resolve) => {
    let kill: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(kill);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    kill = setTimeout(() => child.kill('SIGKILL'), 2_000);
    child.once('exit', done);
    child.kill('SIGTERM');
  });
}
