// Conformance cases, content decoding: gzip, deflate, br and stacked codings, whole and streamed.
// One subject of the transport conformance suite (./index.ts); each case runs against the real test server.
import assert from 'node:assert/strict';
import type { ExtapiError } from '../../errors.js';
import { isExtapiError } from '../../error-guards.js';
import { rejectionOf } from './checks.js';
import { ENCODED_TEXT } from './server.js';
import type { AddCase, SuiteContext } from './suite.js';

/** The "content decoding" cases of the conformance suite. */
export function decodingCases(s: SuiteContext, test: AddCase): void {
  for (const coding of ['gzip', 'deflate', 'br', 'gzip, br']) {
    test(`decodes a "${coding}" response body`, async () => {
      const res = await s.client.get('/encoded', { query: { coding } });
      assert.equal(res.headers.get('content-encoding'), coding);
      assert.equal(await res.text(), ENCODED_TEXT);
    });
  }

  test('decodes a gzip body streamed with readBody: false', async () => {
    const res = await s.client.get('/encoded', { query: { coding: 'gzip' }, readBody: false });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body!) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), ENCODED_TEXT);
  });

  test('refuses a response with more than 5 stacked content codings', async () => {
    const error = await rejectionOf(
      s.client.get('/encoded', { query: { coding: 'gzip, gzip, gzip, gzip, gzip, gzip' } }),
    );
    assert.equal(isExtapiError(error), true);
    assert.equal((error as ExtapiError).code, 'ERR_CONTENT_ENCODING');
  });
}
