// The checks bundled as a user bundles extapi for a page or a worker: esbuild resolves the packages'
// `default` export condition (dist/web, Web Streams), and a Node builtin anywhere in the graph fails
// the build, naming who asked for it.
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** esbuild's options per target: a browser, and Cloudflare workerd as wrangler resolves for it. */
const TARGETS = {
  browser: { entry: 'page.mjs', platform: 'browser' },
  workerd: {
    entry: 'worker.mjs',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
  },
};

/** Fails the build on any Node builtin, with the module that imported it. */
const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (!BUILTINS.has(args.path) && !args.path.startsWith('node:')) return undefined;
      return { errors: [{ text: `Node builtin ${args.path} imported by ${args.importer}` }] };
    });
  },
};

/**
 * The ES module bundle of page.mjs (`browser`) or worker.mjs (`workerd`), as a string.
 * @example
 * const code = await bundle('workerd');
 */
export async function bundle(target) {
  const { entry, ...options } = TARGETS[target];
  const result = await esbuild.build({
    entryPoints: [join(HERE, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    logLevel: 'silent',
    plugins: [noNodeBuiltins],
    ...options,
  });
  return result.outputFiles[0].text;
}
