// @extapi/core/platform-types in browsers and workers (package.json `default` condition): the web
// side of index.d.cts. Nothing here may name a Node type (`node:*`, `Buffer`, `NodeJS.*`), so a
// project without @types/node type-checks with `skipLibCheck: false`.

/**
 * The stream type of `HttpResponse.body` in browsers and workers: a web
 * `ReadableStream<Uint8Array>` (a Node `Readable` on Node, see index.d.cts).
 * @example
 * import type { BodyStream } from '@extapi/core';
 * const stream: BodyStream | null = res.body; // a ReadableStream<Uint8Array> here
 */
export type BodyStream = ReadableStream<Uint8Array>;

/**
 * The Node stream a request or raw body may also be on Node: `never` here, where only web streams
 * and async iterables exist.
 * @example
 * import type { NodeStream } from '@extapi/core';
 * type Upload = ReadableStream<Uint8Array> | NodeStream; // ReadableStream<Uint8Array> here
 */
export type NodeStream = never;

/**
 * The bytes `readBody` resolves to in browsers and workers: a `Uint8Array` (a `Buffer` on Node).
 * @example
 * import type { BodyBytes } from '@extapi/core';
 * const bytes: BodyBytes = await readBody(stream);
 */
export type BodyBytes = Uint8Array;

declare global {
  // `HttpResponse` is `AsyncDisposable` (`await using res = …`): its declaration names
  // Symbol.asyncDispose, which TypeScript's libs declare only from `esnext.disposable` on (Node
  // projects get it from @types/node, as here). Declared the same way, so `lib: ["ES2022", "DOM"]`
  // type-checks too.
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
}
