// CPU per memory hit of cache(): a client whose cache answers every call, against the same client
// answered by a middleware that returns a fresh response without looking anything up (no I/O on
// either side), so the difference is what the hit itself costs.
// `node bench/cache-hit.mjs [--iterations 200000] [--rounds 5]`; build the packages first.
import { createClient, createResponse } from '@extapi/core';
import { mockTransport } from '@extapi/core/testing';
import { cache } from '@extapi/middleware/cache';
import { machine, median, parseArgs, positive } from './util.mjs';

const BODY = JSON.stringify({ id: 1, name: 'item', tags: ['a', 'b', 'c'] });
const ANSWER = {
  status: 200,
  headers: { 'content-type': 'application/json', 'cache-control': 'max-age=3600', etag: '"v1"' },
  body: BODY,
};

/** µs of CPU (user + system) per call for `iterations` sequential GETs that read the body. */
async function perCall(client, iterations) {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await (await client.get('http://api.test/items/1')).text();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

const args = parseArgs(process.argv.slice(2));
const iterations = positive(args, 'iterations', 200_000);
const rounds = positive(args, 'rounds', 5);
const cached = createClient([cache(), mockTransport([ANSWER])]);
// The least a middleware can do to answer: a new response over the same bytes (copied, as a hit does).
const bytes = new TextEncoder().encode(BODY);
function constant(ctx) {
  return Promise.resolve(
    createResponse({
      status: 200,
      headers: () => new Headers(ANSWER.headers),
      url: ctx.request.url.href,
      method: ctx.request.method,
      body: new Uint8Array(bytes),
    }),
  );
}
const bare = createClient([constant, mockTransport([ANSWER])]);
const first = await cached.get('http://api.test/items/1');
const hit = await cached.get('http://api.test/items/1');
if (first.headers.get('x-extapi-cache') !== 'MISS' || hit.headers.get('x-extapi-cache') !== 'HIT') {
  throw new Error('the cache did not answer the second call');
}
await perCall(cached, iterations / 4); // warm-up: JIT both paths
await perCall(bare, iterations / 4);
const hits = [];
const plain = [];
for (let r = 0; r < rounds; r++) {
  hits.push(await perCall(cached, iterations));
  plain.push(await perCall(bare, iterations));
}
console.log(
  `cache() memory hit: ${iterations.toLocaleString('en-US')} GETs × ${rounds} rounds, median CPU µs per call`,
);
console.log(`machine: ${machine()}`);
console.log(`  cache() hit (client + cache, body copied and read): ${median(hits).toFixed(2)} µs`);
console.log(`  no cache, a middleware answering with a constant:   ${median(plain).toFixed(2)} µs`);
console.log(
  `  the hit's own cost:                                  ${(median(hits) - median(plain)).toFixed(2)} µs`,
);
