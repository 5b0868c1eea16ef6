// The transport conformance suite under vitest, against the third-party transport.
import { describeTransportConformance } from '@extapi/core/testing';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { nodeHttpTransport } from './http-transport.mjs';

describeTransportConformance('node:http (vitest)', (options) => nodeHttpTransport(options), {
  runner: { describe, test, beforeAll, afterAll },
});
