// The build for browsers and workers, shared by the packages that have one (package.json `default`
// condition; the `node` condition keeps the Node build). A module with a `.web.ts` sibling
// (platform-streams.ts → platform-streams.web.ts) is replaced by it: the one difference between
// the two builds, so each piece of logic keeps one home.
import { existsSync } from 'node:fs';
import type { Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

const webSiblings: Plugin = {
  name: 'extapi-web-siblings',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const web = `${args.resolveDir}/${args.path.slice(0, -3)}.web.ts`;
      // Not from the sibling itself: index.web.ts re-exports index.ts.
      return web !== args.importer && existsSync(web) ? { path: web } : undefined;
    });
  },
};

/**
 * The tsup options of the web build: `src/index.web.ts` to `dist/web/index.js` (ESM, no Node
 * builtins). Its declarations come from the Node build (`dist/index.web.d.ts`, sharing the Node
 * entry's chunks), so that a project resolving both builds' types (TypeScript `bundler` resolution
 * next to a Node-only package) sees one declaration of each class. The few types that differ
 * (core's `BodyStream`, `BodyBytes`, `NodeStream`) come from `@extapi/core/platform-types`, which
 * the declarations import and package.json resolves per condition.
 * @example
 * export default defineConfig([nodeBuild, webBuild()]);
 */
export function webBuild(): Options {
  return {
    entry: { index: 'src/index.web.ts' },
    outDir: 'dist/web',
    format: ['esm'],
    dts: false,
    clean: true,
    sourcemap: true,
    platform: 'neutral',
    target: 'es2022',
    esbuildPlugins: [webSiblings],
  };
}
