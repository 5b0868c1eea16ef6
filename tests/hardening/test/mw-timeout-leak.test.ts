// A soak of bodies cut mid-read through timeout(), on both transports: the heap after GC stays flat
// (issue 12 #1: a listener left on the signal timeout() hands down kept ~40 KiB per call alive).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startRawServer } from '@extapi/core/testing';
import { timeout } from '@extapi/middleware';
import { useGuard } from './helpers/guard.js';
import { TRANSPORTS } from './helpers/transports.js';

// jest runs without --expose-gc; the flag can still be set at run time and gc() taken from a context.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SMALL = 150;
const LARGE = SMALL * 8;
/** Heap growth allowed between SMALL and LARGE calls: noise, against ~25 MiB leaked before the fix. */
const FLAT_MIB = 8;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe.each(TRANSPORTS)('timeout() over %s, bodies cut mid-read', (_name, kind) => {
  const guard = useGuard();

  async function setup() {
    // content-length 1000, 100 bytes sent, then a reset.
    const raw = await startRawServer((_req, socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n${'x'.repeat(100)}`,
        () => void setImmediate(() => socket.resetAndDestroy()),
      );
    });
    guard.defer(() => raw.close());
    const client = guard.client([timeout({ ms: 60_000 }), kind.make(guard)], { baseUrl: raw.url });
    return async (calls: number) => {
      for (let i = 0; i < calls; i++) {
        const error = await client.get('/').then(
          (res) => res.text(),
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ name: 'TransportError' });
      }
    };
  }

  it(`keeps the heap flat after GC from ${SMALL} to ${LARGE} calls`, async () => {
    const run = await setup();
    await run(SMALL);
    const small = await heapAfterGc();
    await run(LARGE - SMALL);
    const large = await heapAfterGc();
    expect(large - small).toBeLessThan(FLAT_MIB);
  });
});
