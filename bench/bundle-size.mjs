// The size a browser or worker pays for extapi: core + fetchTransport + retry, timeout, headers and
// expectStatus, bundled for the browser (package.json `default` condition), minified and gzipped;
// ky bundled the same way for comparison. `node bench/bundle-size.mjs` (build the packages first).
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ENTRIES = {
  'extapi: core + fetchTransport + retry, timeout, headers, expectStatus': `
    import { createClient } from '@extapi/core';
    import { fetchTransport } from '@extapi/backend-fetch';
    import { retry, timeout, headers, expectStatus } from '@extapi/middleware';
    export const client = createClient([retry(), timeout(5000), headers({ 'x-app': 'web' }),
      expectStatus(), fetchTransport()]);`,
  'ky (retry, timeout, headers, throwHttpErrors built in)': `
    import ky from 'ky';
    export const client = ky.create({ retry: 2, timeout: 5000, headers: { 'x-app': 'web' } });`,
};

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
for (const [name, contents] of Object.entries(ENTRIES)) {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: import.meta.dirname, loader: 'js' },
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  console.log(
    `${name}: ${kib(code.byteLength)} minified, ${kib(gzipSync(code).byteLength)} gzipped`,
  );
}
