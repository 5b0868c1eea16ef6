// Test helper: the ioredis Cluster client the Redis-shared middleware's tests pass as `redis`, for
// a cluster from core's test kit (sharedRedisCluster / startRedisCluster).
import type { RedisClusterNode } from '@extapi/core/testing';
import { Cluster, type ClusterOptions } from 'ioredis';

/**
 * The ioredis Cluster a process of the fleet passes as `redis`: commands fail at once rather than
 * queue while a node is away, and the slot map is refreshed soon after a failover.
 * (test/limits/fleet-worker.mjs repeats these options: a .mjs cannot import this .ts.)
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
export function clusterClient(nodes: RedisClusterNode[]): Cluster {
  const client = new Cluster(nodes, CLUSTER_OPTIONS);
  client.on('error', () => {});
  return client;
}
