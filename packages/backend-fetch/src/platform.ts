// What the fetch transport takes from Node in the Node build. The build for browsers and workers
// swaps this file for platform.web.ts (see scripts/tsup-web.ts).
import { STATUS_CODES } from 'node:http';

/** The standard reason phrase of `status` (HTTP/2 has none), as the undici transport gives. */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? '';
}

/** The bytes of a body read whole: a Buffer on Node, as the undici transport gives. */
export function bytesOf(buffer: ArrayBuffer): Uint8Array {
  return Buffer.from(buffer);
}

/**
 * Resolves once undici has handed the connection of a fully read body back to its pool: it does so
 * in a setImmediate after the body's end, so a request sent sooner would open a second connection.
 * One event-loop turn is cheaper than the extra sockets: with it the benchmark measured less CPU
 * per request than without, and than global fetch called bare.
 */
export function connectionReleased(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
