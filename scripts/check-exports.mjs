// Proves every package works from a plain Node project outside the workspace, through both
// `import` and `require`: each package is linked into a scratch node_modules and every entry
// of its exports map is loaded both ways. Run after the build (`npm test` does).
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'extapi-exports-'));
// Subpaths whose optional peer a plain user may not have are still loadable here, since the
// workspace installs the peers; that they are optional is checked by the package tests.
// Entries that hold types only (core's platform-types: Readable or ReadableStream by condition):
// their module is empty on purpose, so they must load and need not export anything.
const TYPES_ONLY = new Set(['@extapi/core/platform-types']);
let failures = 0;
try {
  mkdirSync(join(scratch, 'node_modules', '@extapi'), { recursive: true });
  writeFileSync(join(scratch, 'package.json'), '{ "name": "scratch", "private": true }');
  const packages = readdirSync(join(root, 'packages'));
  const entries = [];
  for (const dir of packages) {
    const pkgDir = join(root, 'packages', dir);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    symlinkSync(pkgDir, join(scratch, 'node_modules', pkg.name), 'dir');
    for (const key of Object.keys(pkg.exports)) {
      if (key === './package.json') continue;
      entries.push(key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
    }
    // Every entry the build makes (tsup's shared chunks aside) must be reachable through the map.
    for (const file of readdirSync(join(pkgDir, 'dist'))) {
      const name = file.slice(0, -4);
      if (
        file.endsWith('.cjs') &&
        !name.startsWith('chunk-') &&
        name !== 'index' &&
        !(`./${name}` in pkg.exports)
      ) {
        failures++;
        console.log(
          `FAIL ${pkg.name}: dist/${file} is built but ./${name} is not in the exports map`,
        );
      }
    }
  }
  for (const specifier of entries) {
    const check = TYPES_ONLY.has(specifier)
      ? ''
      : " if (!Object.keys(m).length) throw new Error('no exports');";
    for (const [mode, code] of [
      ['import', `const m = await import(${JSON.stringify(specifier)});${check}`],
      ['require', `const m = require(${JSON.stringify(specifier)});${check}`],
    ]) {
      const file = join(scratch, mode === 'import' ? 'check.mjs' : 'check.cjs');
      writeFileSync(file, code);
      try {
        execFileSync(process.execPath, [file], { cwd: scratch, stdio: 'pipe' });
        console.log(`ok   ${mode.padEnd(7)} ${specifier}`);
      } catch (error) {
        failures++;
        console.log(`FAIL ${mode.padEnd(7)} ${specifier}\n${error.stderr?.toString() ?? error}`);
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(
  failures === 0
    ? 'exports: every entry loads through import and require'
    : `exports: ${failures} failure(s)`,
);
process.exit(failures === 0 ? 0 : 1);
