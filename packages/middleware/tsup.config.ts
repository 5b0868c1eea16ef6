import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'tsup';

// One entry per middleware, so each is importable on its own: src/retry/index.ts and
// src/timeout.ts become @extapi/middleware/retry and @extapi/middleware/timeout.
function entries(): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of readdirSync('src', { withFileTypes: true })) {
    if (item.isFile() && item.name.endsWith('.ts') && !item.name.includes('.test.')) {
      result[item.name.slice(0, -3)] = `src/${item.name}`;
    } else if (item.isDirectory() && existsSync(`src/${item.name}/index.ts`)) {
      result[item.name] = `src/${item.name}/index.ts`;
    }
  }
  return result;
}

export default defineConfig({
  entry: entries(),
  format: ['esm', 'cjs'],
  // EXTAPI_SKIP_DTS=1 (npm run demo) skips the declarations, most of the build's time.
  dts: process.env.EXTAPI_SKIP_DTS !== '1',
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Keep function names for stack traces (describe() and the stack check read defineMiddleware's
  // declarations, not names).
  keepNames: true,
});
