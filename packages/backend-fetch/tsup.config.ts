import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // EXTAPI_SKIP_DTS=1 (npm run demo) skips the declarations, most of the build's time.
  dts: process.env.EXTAPI_SKIP_DTS !== '1',
  clean: true,
  sourcemap: true,
  target: 'node20',
});
