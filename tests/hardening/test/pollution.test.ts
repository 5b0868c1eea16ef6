// Prototype pollution (axios CVE-2026-25639 and its gadgets): options parsed from hostile JSON, and
// a polluted Object.prototype, change nothing about where a request goes or what it carries.
import type { IncomingHttpHeaders } from 'node:http';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { createClient } from '@extapi/core';
import { startTestServer, type TestServer } from '@extapi/core/testing';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

const HOSTILE = '{"__proto__":{"polluted":1},"headers":{"__proto__":{"x":1}}}';
const POLLUTED = ['baseUrl', 'headers', 'auth', 'allowAbsoluteUrls', 'polluted', 'x'] as const;

function expectPrototypeClean() {
  const probe: Record<string, unknown> = {};
  for (const name of POLLUTED) expect(probe[name]).toBeUndefined();
}

describe.each(TRANSPORTS)('prototype pollution over %s', (_name, kind) => {
  const guard = useGuard();
  let server: TestServer;
  let evil: TestServer;
  let seen: { where: string; url: string; headers: IncomingHttpHeaders }[];

  beforeEach(async () => {
    seen = [];
    server = await startTestServer((req, res) => {
      seen.push({ where: 'server', url: req.url!, headers: req.headers });
      res.end('ok');
    });
    evil = await startTestServer((req, res) => {
      seen.push({ where: 'evil', url: req.url!, headers: req.headers });
      res.end('evil');
    });
    guard.defer(() => server.close());
    guard.defer(() => evil.close());
  });

  it('refuses a __proto__ key in options from hostile JSON as an unknown option, polluting nothing', async () => {
    const refused = /Invalid option __proto__ \(unknown option/;
    expect(() => guard.client([kind.make(guard)], JSON.parse(HOSTILE))).toThrow(refused);
    const client = guard.client([kind.make(guard)]);
    await expect(client.get(`${server.url}/a`, JSON.parse(HOSTILE))).rejects.toThrow(refused);
    expect(() => client.extend(JSON.parse(HOSTILE))).toThrow(refused);
    expect(() =>
      kind.name === 'undici'
        ? undiciTransport(JSON.parse(HOSTILE))
        : fetchTransport(JSON.parse(HOSTILE)),
    ).toThrow(refused);
    expectPrototypeClean();
    expect(seen).toEqual([]);
  });

  it('takes headers from hostile JSON without polluting or injecting', async () => {
    const headers = JSON.parse('{"__proto__":{"x":1},"accept":"text/plain"}');
    const client = guard.client([kind.make(guard)], { headers });
    const res = await client.get(`${server.url}/a`, {
      headers: JSON.parse(JSON.stringify(headers)),
    });
    expect(await res.text()).toBe('ok');
    const transport =
      kind.name === 'undici' ? undiciTransport(JSON.parse('{}')) : fetchTransport(JSON.parse('{}'));
    guard.defer(() => transport.close());
    expect(await (await createClient([transport]).get(`${server.url}/c`)).text()).toBe('ok');
    expectPrototypeClean();
    for (const { headers: received } of seen) {
      expect(received.x).toBeUndefined();
      expect(received.polluted).toBeUndefined();
    }
    expect(seen.map((s) => [s.where, s.url])).toEqual([
      ['server', '/a'],
      ['server', '/c'],
    ]);
  });

  it('sends requests where they should go, carrying nothing injected, with Object.prototype polluted before createClient', async () => {
    const proto = Object.prototype as Record<string, unknown>;
    try {
      proto.baseUrl = `${evil.url}/stolen`;
      proto.headers = { 'x-injected': 'yes', authorization: 'Bearer injected' };
      proto.auth = 'attacker:secret';
      proto.allowAbsoluteUrls = true;
      const open = guard.client([kind.make(guard)]);
      const based = guard.client([kind.make(guard)], { baseUrl: `${server.url}/v1` });
      expect(await (await open.get(`${server.url}/open`)).text()).toBe('ok');
      expect(await (await based.get('/based')).text()).toBe('ok');
      expect(await (await based.post('/posted', { json: { a: 1 } })).text()).toBe('ok');
      await expect(based.get(`${evil.url}/absolute`)).rejects.toThrow(/another origin/);
    } finally {
      for (const name of ['baseUrl', 'headers', 'auth', 'allowAbsoluteUrls']) delete proto[name];
    }
    expectPrototypeClean();
    expect(seen.map((s) => [s.where, s.url])).toEqual([
      ['server', '/open'],
      ['server', '/v1/based'],
      ['server', '/v1/posted'],
    ]);
    for (const { headers } of seen) {
      expect(headers['x-injected']).toBeUndefined();
      expect(headers.authorization).toBeUndefined();
    }
  });

  // Gadgets: undici takes every request option (body, query…) and fetch every RequestInit member
  // through the prototype chain, both transports read their own options, and core its Context fields.
  // (Not `signal`: Node's own streams read options.signal from undici's internal objects, which no
  // code of ours creates, so a polluted signal breaks undici itself.)
  it.each([
    ['body', 'injected-body'],
    ['query', { injected: '1' }],
    ['proxy', 'http://127.0.0.1:9/'],
    ['dispatcher', { request: () => Promise.reject(new Error('injected dispatcher')) }],
    ['fetch', () => Promise.reject(new Error('injected fetch'))],
    ['maxResponseBytes', 1],
    ['init', { headers: { 'x-injected': 'yes' } }],
    ['method', 'DELETE'],
    ['duplex', 'half'],
    ['state', new Map()],
    [
      'onDownloadProgress',
      () => {
        throw new Error('injected progress');
      },
    ],
    ['timeoutMs', 1],
    ['readBody', false],
  ])('ignores Object.prototype.%s polluted before the transport is made', async (name, value) => {
    const proto = Object.prototype as Record<string, unknown>;
    let text: string;
    try {
      proto[name] = value;
      const client = guard.client([kind.make(guard)]);
      text = await (await client.get(`${server.url}/gadget`)).text();
    } finally {
      delete proto[name];
    }
    expect(text).toBe('ok');
    expect(seen.map((s) => [s.where, s.url, s.headers['content-length'] ?? '-'])).toEqual([
      ['server', '/gadget', '-'],
    ]);
    expect(seen[0]!.headers['x-injected']).toBeUndefined();
  });
});
