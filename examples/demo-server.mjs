// The embedded partner API the demo and examples call: a real node:http server on 127.0.0.1,
// scripted to show retries, rate limits and token refresh without any internet.
import { createServer } from 'node:http';

/**
 * Starts the demo API on a random local port. Routes:
 * - GET /items/:id            → 200 JSON
 * - GET /catalog              → 200 JSON, fresh for 60 s (`Cache-Control: max-age=60`, an `ETag`)
 * - GET /flaky/:key           → 503 on the first call per key, then 200
 * - GET /busy/:key            → 429 with Retry-After: 1 on the first call per key, then 200
 * - GET /secure               → 200 for `Bearer fresh-token`, 401 otherwise
 * - GET /download?bytes=N     → N bytes, sent in chunks (for progress)
 * - GET /slow?ms=N            → 200 after N ms
 * - GET /stuck/:key           → the first call per key never answers (until the client leaves), then 200
 * - GET /down                 → always 500 (for the circuit breaker)
 * - GET /pages?page=N         → items of page N (1–3), `Link: <…>; rel="next"` on all but the last
 * - POST /orders              → creates an order; the first request per Idempotency-Key gets a 500
 *                               (the answer is "lost"), a repeat of the key gets 201 and the same order
 * - POST /upload              → 201 with the size and type of the body it received
 * `stats` counts requests, orders and the most requests in flight at once. With `unref: true` the
 * server does not keep the process alive by itself (for scripts that end without closing it).
 */
export async function startDemoServer({ unref = false } = {}) {
  const seen = new Map();
  const orders = new Map();
  const stats = { requests: 0, orders: 0, inFlight: 0, maxInFlight: 0 };
  const firstTime = (key) => {
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count === 1;
  };
  const server = createServer((req, res) => {
    stats.requests++;
    stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
    res.once('close', () => stats.inFlight--);
    const url = new URL(req.url, 'http://localhost');
    const json = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const [, route, key] = url.pathname.split('/');
    if (route === 'items') {
      return key === 'missing'
        ? json(404, { error: 'no such item' })
        : json(200, { id: key, name: `item ${key}` });
    }
    if (route === 'catalog') {
      return json(200, { items: 3 }, { 'cache-control': 'max-age=60', etag: '"catalog-1"' });
    }
    if (route === 'down') return json(500, { error: 'database unavailable' });
    if (route === 'pages') {
      const page = Number(url.searchParams.get('page') ?? 1);
      const items = [1, 2].map((i) => ({ id: (page - 1) * 2 + i }));
      const next = page < 3 ? { link: `</pages?page=${page + 1}>; rel="next"` } : {};
      return json(200, { page, items }, next);
    }
    if (route === 'orders' && req.method === 'POST') {
      const idempotencyKey = req.headers['idempotency-key'];
      return readAll(req).then((body) => {
        const existing = idempotencyKey && orders.get(idempotencyKey);
        if (existing) return json(201, existing);
        const order = { id: ++stats.orders, ...JSON.parse(body.toString() || '{}') };
        if (idempotencyKey) orders.set(idempotencyKey, order);
        json(500, { error: 'answer lost after the order was created' });
      });
    }
    if (route === 'upload' && req.method === 'POST') {
      return readAll(req).then((body) =>
        json(201, { bytes: body.length, type: req.headers['content-type']?.split(';')[0] }),
      );
    }
    if (route === 'flaky') {
      return firstTime(`flaky:${key}`)
        ? json(503, { error: 'warming up' })
        : json(200, { key, ok: true });
    }
    if (route === 'busy') {
      return firstTime(`busy:${key}`)
        ? json(429, { error: 'slow down' }, { 'retry-after': '1' })
        : json(200, { key, ok: true });
    }
    // Stuck: no answer and no timer; the request ends when the client aborts it (or at close).
    if (route === 'stuck')
      return firstTime(`stuck:${key}`) ? undefined : json(200, { key, ok: true });
    if (route === 'secure') {
      return req.headers.authorization === 'Bearer fresh-token'
        ? json(200, { secret: 'only for fresh tokens' })
        : json(401, { error: 'token expired' }, { 'www-authenticate': 'Bearer' });
    }
    if (route === 'download') {
      const total = Number(url.searchParams.get('bytes') ?? 1_048_576);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        if (sent >= total) return res.end();
        const size = Math.min(chunk.length, total - sent);
        sent += size;
        res.write(chunk.subarray(0, size));
        setTimeout(pump, 5);
      };
      return pump();
    }
    if (route === 'slow') {
      const ms = Number(url.searchParams.get('ms') ?? 100);
      return setTimeout(() => json(200, { waited: ms }), ms);
    }
    json(404, { error: 'not found' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  if (unref) server.unref();
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

function readAll(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
