// Test helper: a real Redis Cluster (3 masters, 3 replicas) for the Redis-shared middleware — CI's
// (REDIS_CLUSTER_NODES, started by scripts/redis-cluster.sh from .ci/run) or one of our own.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions } from 'ioredis';

const SCRIPT = join(__dirname, '../../../../scripts/redis-cluster.sh');
const run = promisify(execFile);

/** One node of the cluster. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** A running cluster. */
export interface RedisCluster {
  /** The nodes as `host:port`, comma-separated (what REDIS_CLUSTER_NODES holds). */
  readonly spec: string;
  readonly nodes: ClusterNode[];
  /** Kills (SIGKILL) the node on `port`; only for a cluster of our own. */
  kill(port: number): void;
  stop(): Promise<void>;
}

/** Parses `host:port,host:port`. */
export function parseNodes(spec: string): ClusterNode[] {
  return spec.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':');
    return { host: host!, port: Number(port) };
  });
}

/**
 * The ioredis Cluster a process of the fleet passes as `redis`: commands fail at once rather than
 * queue while a node is away, and the slot map is refreshed soon after a failover.
 */
export const CLUSTER_OPTIONS: ClusterOptions = {
  enableOfflineQueue: false,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  slotsRefreshTimeout: 1000,
  clusterRetryStrategy: (times: number) => Math.min(times * 100, 500),
  redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 1000 },
};

/** A client for the cluster, with {@link CLUSTER_OPTIONS}. */
export function clusterClient(nodes: ClusterNode[]): Cluster {
  const client = new Cluster(nodes, CLUSTER_OPTIONS);
  client.on('error', () => {});
  return client;
}

/** Starts a cluster of our own through scripts/redis-cluster.sh (REDIS_SERVER_BIN or PATH). */
export async function startRedisCluster(): Promise<RedisCluster> {
  const { stdout } = await run('bash', [SCRIPT, 'start'], { env: process.env });
  const nodesSpec = /REDIS_CLUSTER_NODES=(\S+)/.exec(stdout)?.[1];
  const dir = /REDIS_CLUSTER_DIR=(\S+)/.exec(stdout)?.[1];
  if (!nodesSpec || !dir) throw new Error(`redis-cluster.sh printed no cluster: ${stdout}`);
  return {
    spec: nodesSpec,
    nodes: parseNodes(nodesSpec),
    kill(port) {
      process.kill(Number(readFileSync(join(dir, `${port}.pid`), 'utf8').trim()), 'SIGKILL');
    },
    async stop() {
      await run('bash', [SCRIPT, 'stop', dir]);
    },
  };
}

/**
 * The cluster the tests share: REDIS_CLUSTER_NODES when set, else one of our own. Without either
 * the tests fail (under CI and elsewhere), naming what is missing: never a silent skip.
 */
export async function sharedRedisCluster(): Promise<RedisCluster> {
  const spec = process.env.REDIS_CLUSTER_NODES;
  if (spec) {
    return {
      spec,
      nodes: parseNodes(spec),
      kill() {
        throw new Error(
          'the shared cluster is not ours to kill: start one with startRedisCluster()',
        );
      },
      stop: async () => {},
    };
  }
  try {
    return await startRedisCluster();
  } catch (cause) {
    throw new Error(
      'The Redis Cluster tests need a cluster: set REDIS_CLUSTER_NODES (scripts/redis-cluster.sh) or put redis-server and redis-cli on PATH (or REDIS_SERVER_BIN)',
      { cause },
    );
  }
}
