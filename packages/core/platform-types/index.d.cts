// @extapi/core/platform-types on Node (package.json `node` condition; also what resolvers without
// `exports` support find): the few public types that differ between the Node build and the web
// build (web.d.cts). Hand-written, not built, so that one set of declarations serves both builds
// (one declaration of each class) and only these names follow the resolution condition.
import type { Readable } from 'node:stream';

/**
 * The stream type of `HttpResponse.body` on Node: a Node `Readable` (a web `ReadableStream` in
 * browsers and workers, see web.d.cts).
 * @example
 * import type { BodyStream } from '@extapi/core';
 * const stream: BodyStream | null = res.body; // a Readable here
 */
export type BodyStream = Readable;

/**
 * The Node stream a request or raw body may also be on Node: a `Readable` (`never` in browsers and
 * workers, where only web streams and async iterables exist).
 * @example
 * import type { NodeStream } from '@extapi/core';
 * const upload: NodeStream = createReadStream('file.bin');
 */
export type NodeStream = Readable;

/**
 * The bytes `readBody` resolves to on Node: a `Buffer` (a `Uint8Array` elsewhere).
 * @example
 * import type { BodyBytes } from '@extapi/core';
 * const bytes: BodyBytes = await readBody(stream);
 */
export type BodyBytes = Buffer;
