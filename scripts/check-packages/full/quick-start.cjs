// The README quick start through require(): the CommonJS builds of every package.
const { createServer } = require('node:http');
const { createClient } = require('@extapi/core');
const { undiciTransport } = require('@extapi/backend-undici');
const { fetchTransport } = require('@extapi/backend-fetch');
const { expectStatus, retry, timeout } = require('@extapi/middleware');
const { retry: retryFromSubpath } = require('@extapi/middleware/retry');

process.on('warning', (warning) => {
  if (warning.code === 'EXTAPI_STACK_ORDER') throw warning;
});

async function main() {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    if (calls % 2 === 1) return res.writeHead(503, { 'retry-after': '0' }).end();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: 42, url: req.url }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${server.address().port}/v1`;
  try {
    for (const [transport, retryFn] of [
      [undiciTransport(), retry],
      [fetchTransport(), retryFromSubpath],
    ]) {
      const client = createClient(
        [
          timeout({ ms: 10_000 }),
          retryFn(),
          timeout({ ms: 2_000 }),
          expectStatus([200]),
          transport,
        ],
        { baseUrl },
      );
      try {
        const res = await client.get('/items/42', { query: { expand: 'owner' } });
        const body = await res.json();
        if (body.id !== 42 || body.url !== '/v1/items/42?expand=owner')
          throw new Error(JSON.stringify(body));
        console.log('require:', res.status, JSON.stringify(body), client.describe().join(' → '));
      } finally {
        await client.close();
      }
    }
    if (calls !== 4) throw new Error(`expected 4 requests (two retried 503s), saw ${calls}`);
  } finally {
    server.close();
  }
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
