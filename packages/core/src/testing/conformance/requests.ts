// Conformance cases, methods, URLs and request bodies: every method, query encoding and each kind of request body.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { echoOf, includes } from './checks.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "methods, URLs and request bodies" cases of the conformance suite. */
export function requestCases(s: SuiteContext, test: AddCase): void {
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    test(`sends a ${method} request with its method, path and headers`, async () => {
      const withBody = method !== 'GET' && method !== 'OPTIONS';
      const res = await s.client.request('/echo/items/42', {
        method,
        headers: { 'x-conformance': method },
        ...(withBody ? { body: `body of ${method}` } : {}),
      });
      assert.equal(res.status, 200);
      assert.equal(res.method, method);
      const echo = await echoOf(res);
      assert.equal(echo.method, method);
      assert.equal(echo.url, '/echo/items/42');
      assert.equal(echo.headers['x-conformance'], method);
      assert.equal(echo.bytes.toString(), withBody ? `body of ${method}` : '');
    });
  }

  test(`speaks ${s.kind === 'h2' ? 'HTTP/2' : 'HTTP/1.1'} to the server`, async () => {
    const echo = await echoOf(await s.client.get('/echo'));
    assert.equal(echo.httpVersion, s.kind === 'h2' ? '2.0' : '1.1');
  });

  test('sends a HEAD request and answers without a body although content-length announces one', async () => {
    const res = await s.client.head('/head');
    assert.equal(res.status, 200);
    assert.equal(res.method, 'HEAD');
    assert.equal(res.headers.get('content-length'), '1000');
    assert.equal((await res.bytes()).byteLength, 0);
  });

  test('encodes query parameters: spaces, reserved characters, unicode and repeated keys', async () => {
    const res = await s.client.get('/echo/a%20b', {
      query: { q: 'a b&c=d', list: [1, 2], dropped: undefined, unicode: 'ü€', empty: '' },
    });
    const echo = await echoOf(res);
    assert.equal(
      echo.url,
      '/echo/a%20b?q=a+b%26c%3Dd&list=1&list=2&unicode=%C3%BC%E2%82%AC&empty=',
    );
    assert.equal(res.url, `${s.server.url}${echo.url}`);
  });

  test('round-trips JSON: the body is serialised with content-type application/json and parsed back', async () => {
    const value = { a: 1, nested: { list: [1, 'two', null], flag: true }, text: 'ünïcödé ✓' };
    const res = await s.client.post('/echo', { json: value });
    const echo = await echoOf(res);
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(echo.bytes.toString('utf8')), value);
    assert.equal(res.headers.get('content-type'), 'application/json');
  });

  test('sends a binary Uint8Array body byte for byte and reads binary bytes back', async () => {
    const bytes = new Uint8Array(256 * 4).map((_, i) => i & 0xff);
    const res = await s.client.post('/bytes', { body: bytes });
    assert.equal(Buffer.from(await res.bytes()).equals(Buffer.from(bytes)), true);
  });

  test('sends ArrayBuffer, Blob and URLSearchParams bodies', async () => {
    const array = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const fromArrayBuffer = await s.client.post('/bytes', { body: array.buffer });
    assert.equal(Buffer.from(await fromArrayBuffer.bytes()).equals(Buffer.from(array)), true);

    const blob = new Blob(['blob ', new Uint8Array([0xc3, 0xbc])], { type: 'text/plain' });
    const fromBlob = await echoOf(await s.client.post('/echo', { body: blob }));
    assert.equal(fromBlob.bytes.toString('utf8'), 'blob ü');

    const form = await echoOf(
      await s.client.post('/echo', { body: new URLSearchParams({ a: '1 2', b: 'ü' }) }),
    );
    assert.equal(form.bytes.toString(), 'a=1+2&b=%C3%BC');
    assert.equal(form.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
  });

  test('sends a FormData body as multipart/form-data', async () => {
    const form = new FormData();
    form.append('field', 'value');
    form.append('file', new Blob(['file content'], { type: 'text/plain' }), 'a.txt');
    const echo = await echoOf(await s.client.post('/echo', { body: form }));
    assert.match(String(echo.headers['content-type']), /^multipart\/form-data; ?boundary=/);
    const text = echo.bytes.toString();
    includes(text, 'name="field"');
    includes(text, 'value');
    includes(text, 'filename="a.txt"');
    includes(text, 'file content');
  });

  test('streams a request body from a Node Readable', async () => {
    const chunks = [Buffer.from('first,'), Buffer.from('second,'), Buffer.from('third')];
    const res = await s.client.post('/bytes', { body: Readable.from(chunks) });
    assert.equal(Buffer.from(await res.bytes()).toString(), 'first,second,third');
  });

  test('streams a request body from an async iterable', async () => {
    async function* generate() {
      for (let i = 0; i < 100; i++) yield new Uint8Array(1024).fill(i);
    }
    const res = await s.client.post('/bytes', { body: generate() });
    const bytes = Buffer.from(await res.bytes());
    assert.equal(bytes.length, 100 * 1024);
    assert.equal(bytes[0], 0);
    assert.equal(bytes[99 * 1024], 99);
  });

  test('streams a request body from a web ReadableStream', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('web '));
        controller.enqueue(new TextEncoder().encode('stream'));
        controller.close();
      },
    });
    const res = await s.client.post('/bytes', { body: stream });
    assert.equal(await res.text(), 'web stream');
  });
}
