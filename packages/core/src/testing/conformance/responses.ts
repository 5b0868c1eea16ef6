// Conformance cases, responses: status line, repeated headers, bodiless answers, big bodies read whole and streamed.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Progress } from '../../types.js';
import { greater } from './checks.js';
import { BIG_SIZE, sha256 } from './server.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "responses" cases of the conformance suite. */
export function responseCases(s: SuiteContext, test: AddCase): void {
  test('reports status, statusText, ok, url and method', async () => {
    const res = await s.client.get('/status/404');
    assert.equal(res.status, 404);
    assert.equal(res.statusText, 'Not Found');
    assert.equal(res.ok, false);
    assert.equal(res.url, `${s.server.url}/status/404`);
    assert.equal(res.method, 'GET');
    assert.equal(await res.text(), 'status 404');
    // A read body can be read again.
    assert.equal(await res.text(), 'status 404');
  });

  test('keeps repeated headers: set-cookie through getSetCookie() and others joined', async () => {
    const res = await s.client.get('/cookies');
    // Copied: under jest the array comes from another realm, which a strict deepEqual refuses.
    assert.deepEqual([...res.headers.getSetCookie()], ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
    assert.equal(res.headers.get('x-multi'), 'one, two');
    assert.equal(res.headers.get('X-MULTI'), 'one, two');
  });

  // Bodiless statuses: the request, and a header the answer must keep (304 carries the validator).
  for (const [status, method, headers, kept] of [
    [204, 'DELETE', {}, undefined],
    [304, 'GET', { 'if-none-match': '"v1"' }, ['etag', '"v1"']],
  ] as const) {
    test(`answers ${status} without a body and without hanging`, async () => {
      const res = await s.client.request(`/status/${status}`, { method, headers });
      assert.equal(res.status, status);
      if (kept) assert.equal(res.headers.get(kept[0]), kept[1]);
      assert.equal((await res.bytes()).byteLength, 0);
    });
  }

  test('answers 204, 304 and HEAD with readBody: false without hanging', async () => {
    for (const [method, path] of [
      ['GET', '/status/204'],
      ['GET', '/status/304'],
      ['HEAD', '/head'],
    ] as const) {
      const res = await s.client.request(path, { method, readBody: false });
      assert.equal((await res.bytes()).byteLength, 0);
      await res.discard();
    }
    // The connection is still usable afterwards.
    assert.equal((await s.client.get('/status/200')).status, 200);
  });

  test('reads an 8 MiB response whole with readBody: true', async () => {
    const res = await s.client.get('/big');
    const bytes = await res.bytes();
    assert.equal(bytes.byteLength, BIG_SIZE);
    assert.equal(sha256(bytes), s.fixtures.bigHash);
  });

  test('streams an 8 MiB response with readBody: false as a Node Readable', async () => {
    const res = await s.client.get('/big', { readBody: false });
    assert.equal(res.bodyRead, false);
    assert.ok(res.body instanceof Readable);
    const hash = createHash('sha256');
    let size = 0;
    let chunks = 0;
    for await (const chunk of res.body!) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
      chunks++;
    }
    assert.equal(size, BIG_SIZE);
    greater(chunks, 1);
    assert.equal(hash.digest('hex'), s.fixtures.bigHash);
  });

  test('reads a streamed body with bytes() when readBody is false', async () => {
    const res = await s.client.get('/sized?size=100000', { readBody: false });
    const bytes = await res.bytes();
    assert.equal(bytes.byteLength, 100_000);
    assert.equal(Buffer.from(bytes).equals(s.fixtures.big.subarray(0, 100_000)), true);
  });

  test('reports download progress ending at the full size', async () => {
    const seen: Progress[] = [];
    const res = await s.client.get('/sized?size=300000', {
      onDownloadProgress: (p) => seen.push(p),
    });
    assert.equal((await res.bytes()).byteLength, 300_000);
    greater(seen.length, 0);
    assert.equal(seen[seen.length - 1]!.transferredBytes, 300_000);
  });
}
