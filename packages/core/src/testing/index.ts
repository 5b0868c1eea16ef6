// @extapi/core/testing: the test kit for middleware authors and backend packages.
// A scripted mock transport, a real local test server, and the transport conformance suite.
export {
  mockTransport,
  type MockAnswer,
  type MockStep,
  type MockTransport,
  type MockTransportOptions,
  type RecordedRequest,
} from './mock-transport.js';
export { startTestServer, type TestServer, type TestServerOptions } from './test-server.js';
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
