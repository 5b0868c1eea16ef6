// Runs the shared transport conformance suite against the undici transport and a real local server:
// over plain HTTP/1.1, and over HTTP/2 (allowH2, ALPN) against a node:http2 secure server.
import { describeTransportConformance } from '@extapi/core/testing';

// jest's own functions: the suite registers with whichever runner it is given.
const runner = { describe, test, beforeAll, afterAll };
import { undiciTransport } from './index.js';

describeTransportConformance('undici', (options) => undiciTransport(options), { runner });

describeTransportConformance(
  'undici',
  (options) => undiciTransport({ ...options, allowH2: true }),
  {
    server: 'h2',
    runner,
  },
);
