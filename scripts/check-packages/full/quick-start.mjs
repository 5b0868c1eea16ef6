// The README quick start, standalone: a local API that fails once with 503, then answers JSON.
import { createServer } from 'node:http';
import { createClient } from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import { expectStatus, retry, timeout } from '@extapi/middleware';

process.on('warning', (warning) => {
  if (warning.code === 'EXTAPI_STACK_ORDER') throw warning;
});
let calls = 0;
const server = createServer((req, res) => {
  calls++;
  if (calls === 1) return res.writeHead(503, { 'retry-after': '0' }).end();
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ id: 42, url: req.url }));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const client = createClient(
  [
    timeout({ ms: 10_000 }),
    retry(),
    timeout({ ms: 2_000 }),
    expectStatus([200]),
    undiciTransport(),
  ],
  { baseUrl: `http://127.0.0.1:${server.address().port}/v1` },
);
try {
  const res = await client.get('/items/42', {
    pathTemplate: '/items/:id',
    query: { expand: 'owner' },
  });
  const body = await res.json();
  if (body.id !== 42 || body.url !== '/v1/items/42?expand=owner' || calls !== 2) {
    throw new Error(`unexpected: ${JSON.stringify(body)} after ${calls} calls`);
  }
  console.log('import:', res.status, JSON.stringify(body), client.describe().join(' → '));
} finally {
  await client.close();
  server.close();
}
