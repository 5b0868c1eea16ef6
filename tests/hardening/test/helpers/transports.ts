// The two transports every hardening case runs on, built the same way so that describe.each can
// swap them: the default undici Agent, and fetch (global, or undici's fetch on an Agent of our own).
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import type { Transport } from '@extapi/core';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Guard } from './guard.js';

/** What a case may ask of its transport. */
export interface TransportSetup {
  /** Most connections per origin (a pool of one shows whether a socket is reused). */
  connections?: number;
  /** A CA to trust (self-signed test certificates). */
  ca?: string;
  maxResponseBytes?: number;
  /** undici only: the longest pause between two body chunks. */
  bodyTimeoutMs?: number;
}

/** The setup's own fields only: the pollution cases must not reach the transport through our helper. */
function own(setup: TransportSetup | undefined): TransportSetup {
  const out: TransportSetup = Object.create(null);
  for (const key of ['connections', 'ca', 'maxResponseBytes', 'bodyTimeoutMs'] as const) {
    if (setup && Object.hasOwn(setup, key)) (out as Record<string, unknown>)[key] = setup[key];
  }
  return out;
}

export interface TransportKind {
  name: 'undici' | 'fetch';
  make(guard: Guard, setup?: TransportSetup): Transport;
}

export const undici: TransportKind = {
  name: 'undici',
  make(guard, given) {
    const setup = own(given);
    let transport: Transport;
    if (setup.ca !== undefined) {
      const agent = new Agent({
        connect: { ca: setup.ca },
        ...(setup.connections ? { connections: setup.connections } : {}),
        ...(setup.bodyTimeoutMs ? { bodyTimeout: setup.bodyTimeoutMs } : {}),
      });
      guard.defer(() => agent.close());
      transport = undiciTransport({ dispatcher: agent, maxResponseBytes: setup.maxResponseBytes });
    } else {
      transport = undiciTransport({
        connections: setup.connections,
        maxResponseBytes: setup.maxResponseBytes,
        bodyTimeoutMs: setup.bodyTimeoutMs,
      });
    }
    guard.defer(() => transport.close());
    return transport;
  },
};

export const fetchKind: TransportKind = {
  name: 'fetch',
  make(guard, given) {
    const setup = own(given);
    // The global fetch unless the case needs a pool it controls (size, CA): then undici's fetch on
    // an Agent closed after the test.
    if (setup.connections === undefined && setup.ca === undefined) {
      const transport = fetchTransport({ maxResponseBytes: setup.maxResponseBytes });
      guard.defer(() => transport.close());
      return transport;
    }
    const agent = new Agent({
      ...(setup.connections ? { connections: setup.connections } : {}),
      ...(setup.ca ? { connect: { ca: setup.ca } } : {}),
    });
    guard.defer(() => agent.close());
    const transport = fetchTransport({
      fetch: undiciFetch,
      init: { dispatcher: agent },
      maxResponseBytes: setup.maxResponseBytes,
    });
    guard.defer(() => transport.close());
    return transport;
  },
};

/** Both transports, for describe.each. */
export const TRANSPORTS: [string, TransportKind][] = [
  ['undiciTransport', undici],
  ['fetchTransport', fetchKind],
];
