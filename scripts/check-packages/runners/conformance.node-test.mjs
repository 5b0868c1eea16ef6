// The transport conformance suite under node:test, against the third-party transport.
import { after, before, describe, test } from 'node:test';
import { describeTransportConformance } from '@extapi/core/testing';
import { nodeHttpTransport } from './http-transport.mjs';

describeTransportConformance('node:http (node:test)', (options) => nodeHttpTransport(options), {
  runner: { describe, test, beforeAll: before, afterAll: after },
});
