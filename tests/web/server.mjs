// The Node side of the web checks: tests/runtimes' routes behind CORS (a page on another origin may
// read them), a few routes of the web checks' own, and control routes through which a page or a
// worker reads what the server saw (it cannot read this process's memory) and holds or releases the
// slow requests. A third server serves the page and the bundle of the checks to Chromium.
import { gzipSync } from 'node:zlib';
import { startTestServer } from '@extapi/core/testing';
import { PAYLOAD, routes } from '../runtimes/server.mjs';

/** Response headers a page may read besides the CORS-safelisted ones (retry and auth need them). */
const EXPOSED = ['retry-after', 'www-authenticate', 'content-encoding', 'location', 'x-marker'];
const GZIPPED = gzipSync(Buffer.from(JSON.stringify(PAYLOAD)));

/** A fresh record of what one server saw (the shape tests/runtimes' routes fill). */
function freshState() {
  return { seen: [], counts: {}, slow: { now: 0, max: 0 }, gate: Promise.resolve(), preflights: 0 };
}

/** The routes of the web checks only; `undefined` hands the request to tests/runtimes' routes. */
function webRoute(path, count) {
  switch (path) {
    case '/flaky-gzip': // the recommended stack's call without a redirect: one 503, then gzipped JSON
      return count === 1
        ? [503, { 'content-type': 'application/json' }, '{"error":"busy"}']
        : [200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, GZIPPED];
    case '/set-cookie':
      return [200, { 'set-cookie': 'session=secret; Path=/', 'x-marker': 'visible' }, 'ok'];
    case '/no-cors': // answered without Access-Control-Allow-Origin: a page may not read it
      return [200, { 'content-type': 'application/json' }, '{"secret":true}'];
    case '/to-same-origin':
      return [302, { location: '/echo' }, ''];
    default:
      return undefined;
  }
}

/** The handler of one checks server: CORS, control routes, web routes, then tests/runtimes' routes. */
function handler(state) {
  const shared = routes(state);
  return async (req, res) => {
    // Any origin may call (the page's is another port): reflected, as a partner API's CORS would.
    res.setHeader('access-control-allow-origin', req.headers.origin ?? '*');
    res.setHeader('access-control-expose-headers', EXPOSED.join(', '));
    res.setHeader('vary', 'origin');
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      state.preflights++;
      res.writeHead(204, {
        'access-control-allow-methods': req.headers['access-control-request-method'],
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '',
      });
      return res.end();
    }
    const json = (value) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(value));
    };
    switch (path) {
      case '/__seen': {
        const { seen, counts, slow, preflights } = state;
        return json({ seen, counts, slow, preflights });
      }
      case '/__reset':
        Object.assign(state, freshState(), { other: state.other });
        return json({ ok: true });
      case '/__hold': // /slow requests wait from now on until /__release
        state.gate = new Promise((resolve) => {
          state.release = resolve;
        });
        return json({ ok: true });
      case '/__release':
        state.release?.();
        state.gate = Promise.resolve();
        return json({ ok: true });
    }
    const count = (state.counts[path] ?? 0) + 1;
    const own = webRoute(path, count);
    if (own === undefined) return shared(req, res);
    state.seen.push({ method: req.method, url: req.url, headers: req.headers });
    state.counts[path] = count;
    for await (const _chunk of req);
    const [status, headers, body] = own;
    if (path === '/no-cors') res.removeHeader('access-control-allow-origin');
    res.writeHead(status, headers);
    res.end(body);
  };
}

/**
 * Starts the two origins of the checks (`api`, and `other` for a redirect to another origin), and
 * with `page` a third that serves `page.html` and the checks' bundle at /checks.js.
 * @example
 * const servers = await startWebServers({ page: { bundle } });
 * // Chromium opens `${servers.page.url}/?api=${servers.api.url}&other=${servers.other.url}`
 */
export async function startWebServers({ page } = {}) {
  const other = freshState();
  const otherServer = await startTestServer(handler(other));
  other.url = otherServer.url;
  const api = freshState();
  api.other = other;
  const apiServer = await startTestServer(handler(api));
  const servers = [apiServer, otherServer];
  let pageUrl;
  if (page) {
    const pageServer = await startTestServer((req, res) => {
      if (req.url === '/checks.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        return res.end(page.bundle);
      }
      if (req.url === '/favicon.ico') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        '<!doctype html><meta charset="utf-8"><script type="module" src="/checks.js"></script>',
      );
    });
    servers.push(pageServer);
    pageUrl = pageServer.url;
  }
  return {
    api: apiServer,
    other: otherServer,
    pageUrl,
    close: () => Promise.all(servers.map((s) => s.close())),
  };
}
