// A third-party transport, as an author outside this project would write one: node:http with a
// keep-alive Agent, and @extapi/core's public helpers for everything that is policy (bodies,
// errors, deadlines). The conformance suite of @extapi/core/testing holds it to the same
// behaviour as the project's own backends, under node:test, vitest and jest alike.
import { Agent, request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  bodyPolicy,
  callError,
  defineTransport,
  outgoingBody,
  TimeoutError,
  toNetworkError,
} from '@extapi/core';

const TIMEOUTS = { connectTimeoutMs: 10_000, bodyTimeoutMs: 300_000 };

/** The body as node:http takes it: bytes at once, or a stream piped into the request. */
function wireBody(body, headers) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // core has set its content-type already.
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Blob) {
    if (!headers['content-type'] && body.type) headers['content-type'] = body.type;
    headers['content-length'] ??= String(body.size);
    return Readable.fromWeb(body.stream());
  }
  return Readable.from(body); // a Node Readable, an async iterable or a web ReadableStream
}

/** A transport on node:http; `maxResponseBytes` and `headersTimeoutMs` as the suite asks. */
export function nodeHttpTransport({ maxResponseBytes, headersTimeoutMs = 300_000 } = {}) {
  const agent = new Agent({ keepAlive: true });
  const timeouts = { ...TIMEOUTS, headersTimeoutMs };
  const mapError = (error, ctx) =>
    callError(error, ctx, (cause, info) => toNetworkError(cause, info, timeouts));
  const respond = bodyPolicy({
    maxResponseBytes,
    mapError,
    // node:http frees the socket after the body's end: let it, so the next call reuses it.
    afterBody: () => new Promise((resolve) => setImmediate(resolve)),
  });

  async function send(ctx) {
    const { method, url } = ctx.request;
    const out = ctx.request.body === undefined ? ctx.request : await outgoingBody(ctx, () => false);
    const headers = Object.fromEntries(out.headers);
    const body = wireBody(out.body, headers);
    if (body instanceof Uint8Array) headers['content-length'] ??= String(body.byteLength);
    // The head deadline: a child of the call's scope, stopped at the head; its signal keeps
    // following the call's scope, so a caller's abort still reaches the body.
    const head = ctx.scope.child(
      headersTimeoutMs,
      () =>
        new TimeoutError(headersTimeoutMs, { method, url, attempt: ctx.attempt, phase: 'headers' }),
    );
    let res;
    try {
      res = await new Promise((resolve, reject) => {
        const req = httpRequest(url, { method, headers, agent, signal: head.signal });
        req.once('response', resolve).once('error', reject);
        if (body === undefined) req.end();
        else if (body instanceof Uint8Array) req.end(body);
        else pipeline(body, req).catch((error) => req.destroy(error));
      });
    } catch (error) {
      throw head.aborted && !ctx.scope.aborted ? head.reason : mapError(error, ctx);
    } finally {
      head.stop();
    }
    const responseHeaders = new Headers();
    for (let i = 0; i < res.rawHeaders.length; i += 2) {
      responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
    }
    return respond(ctx, {
      status: res.statusCode,
      statusText: res.statusMessage ?? '',
      headers: responseHeaders,
      contentLength: res.headers['content-length'],
      contentEncoding: res.headers['content-encoding'],
      location: res.headers.location,
      body: res,
      raw: res,
    });
  }

  return defineTransport(send, {
    name: 'nodeHttp',
    close: async () => agent.destroy(),
  });
}
