// Runs the shared transport conformance suite of @extapi/core/testing against the fetch transport,
// on a real node:http server on 127.0.0.1, so fetch behaves like every other backend; and again over
// HTTP/2 (node:http2, private CA) with undici's fetch on an Agent dispatcher, the documented TLS/h2 way.
import { describeTransportConformance } from '@extapi/core/testing';

// jest's own functions: the suite registers with whichever runner it is given.
const runner = { describe, test, beforeAll, afterAll };
import { Agent, fetch as undiciFetch } from 'undici';
import { fetchTransport } from './index.js';

describeTransportConformance('fetch', (options) => fetchTransport(options), { runner });

const agents: Agent[] = [];
afterAll(() => Promise.all(agents.map((agent) => agent.close())));

describeTransportConformance(
  "fetch (undici's fetch, allowH2 Agent)",
  (options) => {
    const agent = new Agent({ allowH2: true, connect: { ca: options?.tls?.ca } });
    agents.push(agent);
    return fetchTransport({
      maxResponseBytes: options?.maxResponseBytes,
      headersTimeoutMs: options?.headersTimeoutMs,
      fetch: undiciFetch,
      init: { dispatcher: agent },
    });
  },
  { server: 'h2', runner },
);
