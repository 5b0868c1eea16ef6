// The lean scenario, shared by lean.mjs (loads the packages with import) and lean.cjs (with
// require): the module system under test is the caller's; this file itself loads no extapi package.
const { createServer } = require('node:http');

/**
 * Runs retry, bearer and basic auth, both limits and logging against a local server.
 * @param {Record<string, Function>} api createClient, undiciTransport and the middleware factories
 * @param {string} label how the packages were loaded, for the printed line
 */
async function runLean(api, label) {
  const {
    createClient,
    undiciTransport,
    basicAuth,
    bearerAuth,
    concurrencyLimit,
    expectStatus,
    logging,
    rateLimit,
    retry,
  } = api;
  const lines = [];
  const logger = Object.fromEntries(
    ['debug', 'info', 'warn', 'error'].map((level) => [
      level,
      (_obj, msg) => lines.push(`${level} ${msg}`),
    ]),
  );
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    const auth = req.headers.authorization;
    if (req.url === '/basic') return res.writeHead(auth === 'Basic dTpw' ? 200 : 401).end('basic');
    if (auth !== 'Bearer fresh') return res.writeHead(401).end();
    if (req.url === '/flaky' && calls < 4) return res.writeHead(503, { 'retry-after': '0' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${server.address().port}`;

  let token = 'stale';
  const limit = rateLimit({ limit: 10, windowMs: 1_000 });
  const slots = concurrencyLimit({ max: 2 });
  const client = createClient(
    [
      logging({ logger }),
      retry({ maxAttempts: 4, backoff: { baseMs: 1, maxMs: 5 } }),
      slots,
      limit,
      expectStatus([200]),
      bearerAuth(({ refresh }) => {
        if (refresh) token = 'fresh';
        return token;
      }),
      undiciTransport(),
    ],
    { baseUrl },
  );
  const basic = createClient([basicAuth({ username: 'u', password: 'p' }), undiciTransport()], {
    baseUrl,
  });
  try {
    // 1: stale token → 401 → refresh → 503; 2–3: 503 retried; 4: 200.
    const res = await client.get('/flaky');
    if (res.status !== 200 || !(await res.json()).ok) throw new Error(`status ${res.status}`);
    const all = await Promise.all([1, 2, 3].map(() => client.get('/ok').then((r) => r.status)));
    if (all.join() !== '200,200,200') throw new Error(`statuses ${all}`);
    if ((await basic.get('/basic')).status !== 200) throw new Error('basic auth was refused');
    if (!lines.some((line) => line.startsWith('info') || line.startsWith('debug'))) {
      throw new Error(`logging wrote nothing: ${lines}`);
    }
    console.log(
      `${label}: ${calls} requests, ${lines.length} log lines, stack ${client.describe().join(' → ')}`,
    );
  } finally {
    await Promise.all([client.close(), basic.close(), limit.close(), slots.close()]);
    server.close();
  }
}

module.exports = { runLean };
