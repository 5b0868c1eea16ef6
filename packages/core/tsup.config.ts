import { defineConfig } from 'tsup';
import { webBuild } from '../../scripts/tsup-web.js';

// EXTAPI_SKIP_DTS=1 (npm run demo) skips the declarations, most of the build's time.
const dts = process.env.EXTAPI_SKIP_DTS !== '1';

export default defineConfig([
  {
    entry: ['src/index.ts', 'src/testing/index.ts'],
    format: ['esm', 'cjs'],
    // index.web.d.ts too: the web build's types, sharing this build's declarations (scripts/tsup-web.ts).
    dts: dts && { entry: ['src/index.ts', 'src/testing/index.ts', 'src/index.web.ts'] },
    // Everything but dist/web, which the web build writes at the same time.
    clean: ['!web/**'],
    sourcemap: true,
    target: 'node20',
    // Hand-written per condition (platform-types/): the declarations import it, never inline it.
    external: ['@extapi/core/platform-types'],
  },
  // Browsers and workers: platform-streams.web.ts (Web Streams) for platform-streams.ts (Node's).
  webBuild(),
]);
