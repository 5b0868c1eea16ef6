// Runs the shared transport conformance suite of @extapi/core/testing against the fetch transport,
// on a real node:http server on 127.0.0.1, so fetch behaves like every other backend.
import { describeTransportConformance } from '@extapi/core/testing';
import { fetchTransport } from './index.js';

describeTransportConformance('fetch', (options) => fetchTransport(options));
