// Runs the shared transport conformance suite against the undici transport and a real local server.
// Every test of the suite runs; none is skipped for undici.
import { describeTransportConformance } from '@extapi/core/testing';
import { undiciTransport } from './index.js';

describeTransportConformance('undici', (options) => undiciTransport(options));
