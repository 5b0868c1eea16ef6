// A real Redis Cluster (3 masters, 3 replicas) for tests of distributed parts: the one the test
// run shares (REDIS_CLUSTER_NODES) or one of our own, whose masters a test may kill. Its nodes are
// started by spawnRedis, like every redis-server of the kit; redis-cli joins them.
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.js';
import { spawnRedis } from './redis-server.js';

const run = promisify(execFile);

/** One node of a cluster. */
export interface RedisClusterNode {
  /** Always `127.0.0.1` for a cluster of our own. */
  host: string;
  /** The node's client port. */
  port: number;
}

/** A Redis Cluster from {@link startRedisCluster} or {@link sharedRedisCluster}. */
export interface RedisCluster {
  /** The nodes as `host:port`, comma-separated (what `REDIS_CLUSTER_NODES` holds). */
  readonly spec: string;
  /** The nodes, masters and replicas alike (a client finds out which is which). */
  readonly nodes: RedisClusterNode[];
  /** Kills (SIGKILL) the node on `port`, to test a failover; only for a cluster of our own. */
  kill(port: number): Promise<void>;
  /** Stops every node and removes their files; a no-op for the shared cluster. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /**
   * How long a master may be silent before its replica is promoted, in ms (redis-server's
   * `cluster-node-timeout`). @default 2000
   */
  nodeTimeoutMs?: number;
}

/**
 * Parses `host:port,host:port` (what `REDIS_CLUSTER_NODES` holds).
 * @example
 * parseClusterNodes('127.0.0.1:7000,127.0.0.1:7001'); // [{ host: '127.0.0.1', port: 7000 }, …]
 */
export function parseClusterNodes(spec: string): RedisClusterNode[] {
  return spec.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':');
    return { host: host!, port: Number(port) };
  });
}

// redis-cli beside the redis-server in use (REDIS_SERVER_BIN), else on PATH.
function redisCli(): string {
  const server = process.env.REDIS_SERVER_BIN;
  const beside = server ? join(dirname(server), 'redis-cli') : undefined;
  return beside && existsSync(beside) ? beside : 'redis-cli';
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// A node also listens on port + 10000 (the cluster bus): both must be free.
async function clusterPort(taken: readonly number[]): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && !taken.includes(port) && (await isFree(port + 10_000)))
      return port;
  }
  throw new Error('no free port p with p + 10000 also free on 127.0.0.1');
}

// Polls until every node passes `check` (what `redis-cli -p <port> <args>` prints), for up to 20 s.
async function untilEvery(
  cli: string,
  ports: readonly number[],
  args: readonly string[],
  check: (output: string) => boolean,
  what: string,
): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const outputs = await Promise.all(
      ports.map((port) =>
        run(cli, ['-p', String(port), ...args]).then(
          (r) => r.stdout,
          () => '',
        ),
      ),
    );
    if (outputs.every(check)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Redis Cluster: ${what}`);
}

/**
 * Starts a Redis Cluster of our own: six redis-servers (`REDIS_SERVER_BIN` or `redis-server` on
 * PATH, no persistence) on free ports of 127.0.0.1, joined by `redis-cli --cluster create
 * --cluster-replicas 1` (redis-cli beside the server or on PATH). Resolves once every node says
 * `cluster_state:ok` and every replica has synced once (a replica that never synced refuses to
 * stand for election, so its master's death would leave its slots without an owner).
 * @example
 * const cluster = await startRedisCluster();
 * try { const client = new Cluster(cluster.nodes); … await cluster.kill(masterPort); … }
 * finally { await cluster.stop(); }
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const nodeTimeout = String(options.nodeTimeoutMs ?? 2000);
  const dir = mkdtempSync(join(tmpdir(), 'extapi-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const kill = async (port: number): Promise<void> => {
    const child = children.get(port);
    children.delete(port);
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  };
  const stop = async (): Promise<void> => {
    await Promise.all([...children.keys()].map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await clusterPort(ports));
    for (const port of ports) {
      const cluster = ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`];
      const child = await spawnRedis(port, dir, [
        ...cluster,
        '--cluster-node-timeout',
        nodeTimeout,
      ]);
      children.set(port, child);
    }
    const cli = redisCli();
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run(cli, ['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes']);
    // Every node must agree before a client connects: one that still says fail refuses commands.
    await untilEvery(
      cli,
      ports,
      ['cluster', 'info'],
      (out) => /^cluster_state:ok/m.test(out),
      'cluster_state not ok on every node',
    );
    await untilEvery(
      cli,
      ports,
      ['info', 'replication'],
      (out) => /^(role:master|master_link_status:up)/m.test(out),
      'replicas not in sync',
    );
    const spec = nodes.join(',');
    return { spec, nodes: parseClusterNodes(spec), kill, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The cluster a test run shares: `REDIS_CLUSTER_NODES` when set (`npm test` and CI start one
 * through scripts/test-env.mjs), else one of our own. Without either it rejects, naming what is
 * missing: tests of distributed parts fail, never skip. With `CI` set, `REDIS_CLUSTER_NODES` is
 * required: a run that lost it on the way (a task runner filtering the environment) fails rather
 * than quietly testing a cluster of its own.
 * @example
 * const cluster = await sharedRedisCluster();
 * afterAll(() => cluster.stop());
 */
export async function sharedRedisCluster(): Promise<RedisCluster> {
  const spec = process.env.REDIS_CLUSTER_NODES;
  if (spec) {
    return {
      spec,
      nodes: parseClusterNodes(spec),
      kill: () =>
        Promise.reject(
          new Error('the shared cluster is not ours to kill: start one with startRedisCluster()'),
        ),
      stop: async () => {},
    };
  }
  if (process.env.CI) {
    throw new Error(
      'CI is set but REDIS_CLUSTER_NODES is not: run the tests through scripts/test-env.mjs (npm test does), which starts the shared Redis Cluster',
    );
  }
  try {
    return await startRedisCluster();
  } catch (cause) {
    throw new Error(
      'These tests need a Redis Cluster: set REDIS_CLUSTER_NODES (scripts/redis-cluster.sh) or put redis-server and redis-cli on PATH (or REDIS_SERVER_BIN)',
      { cause },
    );
  }
}
