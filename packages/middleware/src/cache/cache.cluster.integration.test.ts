import { createClient } from '@extapi/core';
import {
  type RedisCluster,
  sharedRedisCluster,
  startTestServer,
  type TestServer,
} from '@extapi/core/testing';
import { undiciTransport } from '@extapi/backend-undici';
import type { Cluster } from 'ioredis';
import { clusterClient } from '../../test/limits/cluster-client.js';
import { cache } from './cache.js';
import { CACHE_STATUS_HEADER } from './respond.js';

describe('cache() on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let server: TestServer;
  let hits = 0;
  const clients: Cluster[] = [];
  const transport = undiciTransport();

  beforeAll(async () => {
    cluster = await sharedRedisCluster();
    server = await startTestServer((req, res) => {
      hits++;
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end(`${req.url} ${hits}`);
    });
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await transport.close();
    await server?.close();
    await cluster?.stop();
  });

  test('entries of many URLs (spread over the slots) are shared by two clients', async () => {
    const id = `cluster-${process.pid}-${Date.now()}`;
    const [a, b] = [clusterClient(cluster.nodes), clusterClient(cluster.nodes)];
    clients.push(a, b);
    const first = createClient([cache({ redis: a, id }), transport], { baseUrl: server.url });
    const second = createClient([cache({ redis: b, id }), transport], { baseUrl: server.url });
    const paths = Array.from({ length: 12 }, (_, i) => `/items/${i}`);
    for (const path of paths) await first.get(path);
    const answers = await Promise.all(paths.map((path) => second.get(path)));
    expect(answers.map((res) => res.headers.get(CACHE_STATUS_HEADER))).toEqual(
      Array(12).fill('HIT'),
    );
    expect(await answers[5]!.text()).toBe('/items/5 6');
    expect(hits).toBe(12);
  });
});
