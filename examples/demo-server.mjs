// The embedded partner API the demo and examples call: a real node:http server on 127.0.0.1,
// scripted to show retries, rate limits and token refresh without any internet.
import { createServer } from 'node:http';

/**
 * Starts the demo API on a random local port. Routes:
 * - GET /items/:id            → 200 JSON
 * - GET /flaky/:key           → 503 on the first call per key, then 200
 * - GET /busy/:key            → 429 with Retry-After: 1 on the first call per key, then 200
 * - GET /secure               → 200 for `Bearer fresh-token`, 401 otherwise
 * - GET /download?bytes=N     → N bytes, sent in chunks (for progress)
 * - GET /slow?ms=N            → 200 after N ms
 */
export async function startDemoServer() {
  const seen = new Map();
  const stats = { requests: 0 };
  const firstTime = (key) => {
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count === 1;
  };
  const server = createServer((req, res) => {
    stats.requests++;
    const url = new URL(req.url, 'http://localhost');
    const json = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const [, route, key] = url.pathname.split('/');
    if (route === 'items') return json(200, { id: key, name: `item ${key}` });
    if (route === 'flaky') {
      return firstTime(`flaky:${key}`) ? json(503, { error: 'warming up' }) : json(200, { key, ok: true });
    }
    if (route === 'busy') {
      return firstTime(`busy:${key}`)
        ? json(429, { error: 'slow down' }, { 'retry-after': '1' })
        : json(200, { key, ok: true });
    }
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
