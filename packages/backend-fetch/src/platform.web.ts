// platform.ts for browsers and workers: nothing from Node.

/** No reason-phrase table without Node: the empty string fetch gives (HTTP/2 has none). */
export function reasonPhrase(_status: number): string {
  return '';
}

/** The bytes of a body read whole. */
export function bytesOf(buffer: ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer);
}

/** The runtime's fetch owns its connections: nothing to wait for. */
export const connectionReleased: (() => Promise<void>) | undefined = undefined;
