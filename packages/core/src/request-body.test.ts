// Unit tests of core's request body policy: FormData a sender cannot take, and upload progress
// with the body's known length kept. Transports run the conformance suite on top.
import { Readable } from 'node:stream';
import { createContext } from './context-init.js';
import { encodeFormData, isStreamBody, outgoingBody } from './request-body.js';
import type { Context, Progress, RequestBody } from './types.js';

function ctxOf(body: RequestBody | undefined, onUploadProgress?: (p: Progress) => void): Context {
  return createContext({
    request: {
      method: 'POST',
      url: new URL('http://api.test/'),
      headers: new Headers({ 'x-a': '1' }),
      body,
    },
    onUploadProgress,
  });
}

async function collect(body: RequestBody | undefined): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe('outgoingBody', () => {
  it('gives the request itself back when there is nothing to do', () => {
    const ctx = ctxOf('plain');
    expect(outgoingBody(ctx, () => true)).toBe(ctx.request);
    const form = ctxOf(new FormData());
    expect(outgoingBody(form, () => true)).toBe(form.request);
  });

  it('encodes a FormData the sender cannot take, with its multipart content-type', async () => {
    const form = new FormData();
    form.append('field', 'value');
    const ctx = ctxOf(form);
    const out = await outgoingBody(ctx, () => false);
    expect(out.body).toBeInstanceOf(Uint8Array);
    expect(out.headers.get('content-type')).toMatch(/^multipart\/form-data; ?boundary=/);
    expect(out.headers.get('x-a')).toBe('1');
    expect(Buffer.from(out.body as Uint8Array).toString()).toContain('name="field"');
    // The request's own headers are left as they were.
    expect(ctx.request.headers.has('content-type')).toBe(false);
  });

  it('reports upload progress and keeps a known length as content-length', async () => {
    const seen: Progress[] = [];
    const out = await outgoingBody(
      ctxOf('hello', (p) => seen.push(p)),
      () => true,
    );
    expect(isStreamBody(out.body)).toBe(true);
    expect(out.headers.get('content-length')).toBe('5');
    expect(await collect(out.body)).toBe('hello');
    expect(seen[seen.length - 1]).toEqual({ transferredBytes: 5, totalBytes: 5, percent: 100 });
  });

  it('reports upload progress of a stream without a length, and of an encoded form', async () => {
    const seen: Progress[] = [];
    const stream = await outgoingBody(
      ctxOf(Readable.from([Buffer.from('ab'), Buffer.from('c')]), (p) => seen.push(p)),
      () => true,
    );
    expect(stream.headers.has('content-length')).toBe(false);
    expect(await collect(stream.body)).toBe('abc');
    expect(seen[seen.length - 1]).toEqual({ transferredBytes: 3 });

    const form = new FormData();
    form.append('f', 'v');
    const encoded = await encodeFormData(form, new Headers());
    const reported: Progress[] = [];
    const out = await outgoingBody(
      ctxOf(form, (p) => reported.push(p)),
      () => false,
    );
    expect(out.headers.get('content-length')).toBe(String(encoded.body.byteLength));
    await collect(out.body);
    expect(reported[reported.length - 1]!.percent).toBe(100);
  });
});
