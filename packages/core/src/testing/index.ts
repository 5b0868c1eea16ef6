// @extapi/core/testing: the test kit for middleware authors and backend packages.
// A scripted mock transport, real local servers (node:http, raw TCP, tinyproxy, Redis, Redis Cluster), TLS
// fixtures, and the transport conformance suite.
export {
  mockTransport,
  type MockAnswer,
  type MockStep,
  type MockTransport,
  type MockTransportOptions,
  type RecordedRequest,
} from './mock-transport.js';
export { startTestServer, type TestServer, type TestServerOptions } from './test-server.js';
export {
  rawResponse,
  startRawServer,
  type RawHandler,
  type RawRequest,
  type RawServer,
} from './raw-server.js';
export { freePort, listenLocal, waitForPort, type LocalListener } from './net.js';
export {
  sharedRedis,
  spawnRedis,
  startRedisServer,
  type RedisServer,
  type SharedRedis,
} from './redis-server.js';
export {
  parseClusterNodes,
  sharedRedisCluster,
  startRedisCluster,
  type RedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
} from './redis-cluster.js';
export { createTlsFixtures, type TlsFixtures, type TlsKeyPair } from './tls-fixtures.js';
export {
  describeTransportConformance,
  transportConformanceCases,
  type ConformanceCase,
  type ConformanceGroup,
  type ConformanceRunner,
  type ConformanceServerKind,
  type ConformanceSuite,
  type ConformanceTransportOptions,
  type TransportConformanceOptions,
} from './conformance/index.js';
export {
  findTinyproxy,
  startTinyproxy,
  type Tinyproxy,
  type TinyproxyOptions,
} from './tinyproxy.js';
