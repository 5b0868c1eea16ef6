// The benchmark's upstream: a keep-alive node:http server with one small canned response.
// It runs in its own process (forked by run.mjs) so that the client under test is the bottleneck.
import http from 'node:http';

// A small JSON body, the size of a typical "get one item" answer; prepared once.
const BODY = Buffer.from(JSON.stringify({ id: 42, name: 'widget', ok: true }));
const HEADERS = {
  'content-type': 'application/json',
  'content-length': String(BODY.length),
  'cache-control': 'no-store',
};

let served = 0;
const server = http.createServer((req, res) => {
  served++;
  // Drain any request body so the connection stays reusable, then answer at once.
  req.resume();
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
// Long keep-alive and no per-socket cap: clients keep their connections for the whole run.
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.maxRequestsPerSocket = 0;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}/items/42`;
  if (process.send) process.send({ type: 'ready', url });
  else console.log(`bench server listening on ${url}`);
});

// The parent asks for the server's CPU use around each row, to show whether the server saturated.
process.on('message', (message) => {
  if (message?.type === 'stats') {
    const cpu = process.cpuUsage();
    process.send({ type: 'stats', id: message.id, cpuUs: cpu.user + cpu.system, served });
  } else if (message?.type === 'close') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
