// The runtime-neutral entry: `node main.mjs`, `bun main.mjs` or `deno run -A main.mjs` runs the
// transport conformance suite and the middleware checks against the built packages on that runtime,
// prints a line per check, and ends with "<runtime>: N passed, N failed" (exit code 1 on a failure).
import assert from 'node:assert/strict';
import { fetchTransport } from '@extapi/backend-fetch';
import { undiciTransport } from '@extapi/backend-undici';
import { createClient, createResponse, defineTransport, recordHeaders } from '@extapi/core';
import { startTestServer, transportConformanceCases } from '@extapi/core/testing';
import { EXPECTED_FAILURES, UNSUPPORTED_TRANSPORTS } from './expected-failures.mjs';
import { runGroups, runtimeKind, runtimeName } from './harness.mjs';
import { middlewareGroup } from './middleware.mjs';

const TRANSPORTS = {
  fetch: (options) => fetchTransport(options),
  undici: (options) => undiciTransport(options),
};

const kind = runtimeKind();
const expected = EXPECTED_FAILURES[kind] ?? {};
const unsupported = UNSUPPORTED_TRANSPORTS[kind] ?? {};
const groups = [];
for (const [name, make] of Object.entries(TRANSPORTS)) {
  if (unsupported[name]) {
    // Not silently left out: one real call that must still fail as the README says.
    groups.push(unsupportedGroup(name, make, unsupported[name]));
    continue;
  }
  groups.push(...conformanceGroups(name, make, expected[`${name} conformance`] ?? {}));
  groups.push(middlewareGroup(name, () => make(), expected[`${name} middleware`] ?? {}));
}

groups.push(headersGroup());

// A rejection nobody handled is a failure of the run, not a crash that hides the summary.
let unhandled = 0;
process.on('unhandledRejection', (reason) => {
  unhandled++;
  console.log(`not ok - unhandled rejection: ${reason instanceof Error ? reason.stack : reason}`);
});
const result = await runGroups(groups);
result.failed += unhandled;
console.log(
  `runtime: ${runtimeName()}${result.expected > 0 ? ` (${result.expected} expected failures, listed in README.md's Runtimes table)` : ''}`,
);
console.log(`${kind}: ${result.passed} passed, ${result.failed} failed`);
process.exit(result.failed === 0 ? 0 : 1);

/** The conformance suite of one transport, its subjects as groups sharing one setup. */
function conformanceGroups(name, make, expectedFailures) {
  const suite = transportConformanceCases(name, make);
  const titles = new Set(suite.groups.flatMap((g) => g.cases.map((c) => c.title)));
  const unknown = Object.keys(expectedFailures).filter((title) => !titles.has(title));
  if (unknown.length > 0) throw new Error(`expected failures name no case: ${unknown.join('; ')}`);
  return suite.groups.map((group, i) => ({
    title: `${suite.title} › ${group.title}`,
    setup: i === 0 ? () => suite.setup() : undefined,
    teardown: i === suite.groups.length - 1 ? () => suite.teardown() : undefined,
    cases: group.cases.map((c) => ({
      title: c.title,
      run: c.run,
      timeoutMs: c.timeoutMs,
      expectedFailure: expectedFailures[c.title],
    })),
  }));
}

/**
 * A transport this runtime cannot run: one GET through it must still fail (as README.md says), so
 * the day it works the run fails and the table gets its "yes".
 */
function unsupportedGroup(name, make, reason) {
  let server;
  return {
    title: `${name} transport`,
    setup: async () => {
      server = await startTestServer((_req, res) => res.end('ok'));
    },
    teardown: () => server.close(),
    cases: [
      {
        title: `a GET through ${name}Transport() answers 200`,
        expectedFailure: reason,
        run: async () => {
          const client = createClient([make()], { baseUrl: server.url });
          try {
            const res = await client.get('/');
            assert.equal(res.status, 200);
            assert.equal(await res.text(), 'ok');
          } finally {
            await client.close();
          }
        },
      },
    ],
  };
}

/**
 * core's own Headers (response headers over a record, a pass's writes over its client's) copied
 * with `new Headers()`, as user code does: Bun copies a Headers from its own storage, not its
 * iterator, so what they hold elsewhere must still come along.
 */
function headersGroup() {
  const echo = defineTransport(
    async (ctx) =>
      createResponse({
        status: 200,
        headers: new Headers(ctx.request.headers),
        url: ctx.request.url.href,
        method: ctx.request.method,
        body: null,
      }),
    { name: 'echo' },
  );
  return {
    title: "core's headers",
    cases: [
      {
        title: 'recordHeaders() copied with new Headers() keeps its entries',
        run: () => {
          assert.equal(new Headers(recordHeaders({ 'x-a': '1' })).get('x-a'), '1');
        },
      },
      {
        title: "a middleware's header write survives new Headers(ctx.request.headers)",
        run: async () => {
          const client = createClient(
            [
              (ctx, next) => {
                ctx.request.headers.set('x-written', 'yes');
                return next(ctx);
              },
              echo,
            ],
            { headers: { 'x-client': 'c' } },
          );
          const res = await client.get('http://api.test/');
          assert.equal(res.headers.get('x-written'), 'yes');
          assert.equal(res.headers.get('x-client'), 'c');
        },
      },
    ],
  };
}
