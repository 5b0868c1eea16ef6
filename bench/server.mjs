// The benchmark's upstream: a raw TCP server that answers every GET with one precomputed keep-alive
// HTTP/1.1 response. It runs in its own process (forked by harness.mjs), far cheaper than any client.
import net from 'node:net';

// A small JSON body, the size of a typical "get one item" answer; the whole response is built once.
const BODY = JSON.stringify({ id: 42, name: 'widget', ok: true });
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
    'content-type: application/json\r\n' +
    `content-length: ${Buffer.byteLength(BODY)}\r\n` +
    'cache-control: no-store\r\n' +
    'connection: keep-alive\r\n' +
    'keep-alive: timeout=60\r\n' +
    `\r\n${BODY}`,
);
const END = Buffer.from('\r\n\r\n');
// Replies for several requests parsed from one chunk go out in one write; built on first need.
const batches = [Buffer.alloc(0), RESPONSE];
const replies = (n) => {
  batches[n] ??= Buffer.concat(Array.from({ length: n }, () => RESPONSE));
  return batches[n];
};

let served = 0;
const sockets = new Set();

// Every client sends GETs without a body, so a request ends at its blank line: counting `\r\n\r\n`
// is the whole parser. A terminator split across chunks is found by keeping the last 3 bytes.
const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  let tail = null;
  socket.on('data', (chunk) => {
    const data = tail === null ? chunk : Buffer.concat([tail, chunk]);
    let count = 0;
    let end = 0;
    for (let at = data.indexOf(END); at !== -1; at = data.indexOf(END, end)) {
      count++;
      end = at + END.length;
    }
    const rest = data.length - end;
    tail = rest === 0 ? null : data.subarray(data.length - Math.min(rest, END.length - 1));
    if (count > 0) {
      served += count;
      socket.write(replies(count));
    }
  });
  socket.on('error', () => {}); // a client closing mid-write is not the server's concern
  socket.on('close', () => sockets.delete(socket));
});

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
    for (const socket of sockets) socket.destroy();
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
