// The routes of the middleware checks' servers: each answers what one check needs (a 503 then the
// item, a 429 with Retry-After, a gzipped JSON body, a redirect to the other origin, …) and records
// every request it saw in `state.seen` and `state.counts`.
import { gzipSync } from 'node:zlib';
import { PAYLOAD } from './payload.mjs';

export { PAYLOAD };

const GZIPPED = gzipSync(Buffer.from(JSON.stringify(PAYLOAD)));

/** What the server saw of one request. */
function seenOf(req) {
  return { method: req.method, url: req.url, headers: req.headers };
}

/** The routes both servers answer; `state.seen` records every request in order. */
export function routes(state) {
  return async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    state.seen.push(seenOf(req));
    for await (const _chunk of req); // read the request body whole before answering
    const count = (state.counts[url.pathname] ?? 0) + 1;
    state.counts[url.pathname] = count;
    const json = (status, value, extra = {}) => {
      const body = Buffer.from(JSON.stringify(value));
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': body.length,
        ...extra,
      });
      res.end(body);
    };
    switch (url.pathname) {
      case '/echo':
        return json(200, seenOf(req));
      case '/flaky-503': // one 503, then the item
        return count === 1 ? json(503, { error: 'busy' }) : json(200, PAYLOAD);
      case '/flaky-429': // one 429 asking for 3 s, then the item
        return count === 1
          ? json(429, { error: 'slow down' }, { 'retry-after': '3' })
          : json(200, PAYLOAD);
      case '/cut-once': // the first body is cut by the connection closing, the second arrives whole
        if (count === 1) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10_000 });
          res.write('{"partial":');
          return void setTimeout(() => req.socket.destroy(), 20);
        }
        return json(200, PAYLOAD);
      case '/always-503':
        return json(503, { error: 'down' });
      case '/missing':
        return json(404, { error: 'no such item' });
      case '/gzip':
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': GZIPPED.length,
        });
        return res.end(GZIPPED);
      case '/gzip-after-503': // the call: a 503, then a redirect, then a gzipped JSON body
        if (count === 1) return json(503, { error: 'busy' });
        res.writeHead(302, { location: '/gzip' });
        return res.end();
      case '/needs-fresh-token':
        return req.headers.authorization === 'Bearer fresh'
          ? json(200, { who: 'fresh' })
          : json(401, { error: 'expired' }, { 'www-authenticate': 'Bearer' });
      case '/to-other-origin':
        res.writeHead(302, { location: `${state.other.url}/echo` });
        return res.end();
      case '/big':
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': 64 * 1024,
        });
        return res.end(Buffer.alloc(64 * 1024, 7));
      case '/slow': {
        // Held until `state.gate` resolves, so that calls pile up; `state.slow` counts them.
        const slow = state.slow;
        slow.now++;
        slow.max = Math.max(slow.max, slow.now);
        await state.gate;
        slow.now--;
        return json(200, { n: count });
      }
      case '/hang':
        return; // never answers; the test server destroys the socket when it closes
      default:
        return json(404, { error: 'not found' });
    }
  };
}
