// The quick example of the Python extapi README, ported: a retrying client that validates the
// status and reads JSON. Run it with `node examples/quick-start.mjs` (it starts the local demo API).
import { createClient } from '@extapi/core';
import { undiciTransport } from '@extapi/backend-undici';
import { expectStatus, retry } from '@extapi/middleware';
import { startDemoServer } from './demo-server.mjs';

const api = await startDemoServer();

// Python: RetryableExecutor(AiohttpExecutor(), addons=[Retry5xxAddon(), Retry429Addon(),
//         StatusValidationAddon(statuses={200})])
const client = createClient([retry({ maxAttempts: 3 }), expectStatus([200]), undiciTransport()], {
  baseUrl: api.url,
});

try {
  const response = await client.get('/flaky/quick-start');
  console.log(response.status, await response.json());
} finally {
  await client.close();
  await api.close();
}
