// Checks the packages as users get them: the packed tarballs, not the source tree. Run after the
// build (`.ci/run` calls it after `npm test`); exits non-zero on any failure.
//  1. `pnpm pack` every package; `publint --strict` and `attw --profile node16` on each tarball
//     (every entry of the explicit exports maps).
//  2. Installs all tarballs together with plain npm into a scratch project outside the workspace,
//     runs a standalone quick start through `import` and `require`, and type-checks a TypeScript
//     file under `moduleResolution` node16 (ESM and CJS) and bundler.
//  3. A second scratch project with only core, middleware and backend-undici (no prom-client,
//     @opentelemetry/api, ioredis, redis-semaphore) runs retry, auth, limits and logging.
//  4. The test kit as an author outside this project uses it: core's main entry (ESM and CJS) does
//     not load @extapi/core/testing, and a third-party transport on node:http passes the transport
//     conformance suite under node:test and under vitest 4.1 (jest: the backends' own tests).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const scratch = mkdtempSync(join(tmpdir(), 'extapi-packages-'));
const packs = join(scratch, 'packs');
const fixtures = join(root, 'scripts', 'check-packages');
const NPM_FLAGS = [
  '--prefer-offline',
  '--no-audit',
  '--no-fund',
  '--no-package-lock',
  '--loglevel=error',
];
// The same @types/node as the workspace, so the type-check sees what the packages were built against.
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const TYPES_NODE = `@types/node@${rootPkg.devDependencies['@types/node']}`;

// vitest 4.1 is the last line that runs on Node 20 (5 needs Node 22).
const VITEST = 'vitest@4.1.12';
// Names only the test kit defines: none may be reachable from core's main entry.
const TEST_KIT_MARKERS = [
  'transportConformanceCases',
  'startTestServer',
  'mockTransport',
  'createTlsFixtures',
  'startTinyproxy',
];

/** The files of `dir` that `entry` loads, following relative imports and requires. */
function localGraph(dir, entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import|require\()\s*["'](\.[^"']+)["']/g)) {
      visit(resolve(dirname(file), m[1]));
    }
  };
  visit(join(dir, entry));
  return [...seen];
}

let failures = 0;
function step(name, fn) {
  const started = Date.now();
  try {
    fn();
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failures++;
    const output = [error.stdout, error.stderr].filter(Boolean).map(String).join('\n');
    console.log(`FAIL ${name}\n${output || error.stack || error}`);
  }
}
function run(command, args, cwd, env = {}) {
  return execFileSync(command, args, {
    cwd,
    stdio: 'pipe',
    encoding: 'utf8',
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

try {
  mkdirSync(packs);
  const packages = readdirSync(join(root, 'packages')).map((dir) => {
    const pkgDir = join(root, 'packages', dir);
    return { dir, pkgDir, pkg: JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) };
  });

  // 1. Pack, publint, attw.
  const tarballs = {};
  for (const { pkgDir, pkg } of packages) {
    step(`pack ${pkg.name}`, () => {
      run('npx', ['-y', 'pnpm@10.34.9', 'pack', '--pack-destination', packs], pkgDir);
      const file = `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`;
      if (!existsSync(join(packs, file))) throw new Error(`no ${file} in ${packs}`);
      tarballs[pkg.name] = join(packs, file);
    });
  }
  for (const { pkg } of packages) {
    const tarball = tarballs[pkg.name];
    if (!tarball) continue;
    step(`publint --strict ${pkg.name}`, () => {
      const out = run(bin('publint'), ['run', tarball, '--strict'], scratch);
      if (!/All good!/.test(out))
        throw Object.assign(new Error('publint found issues'), { stdout: out });
    });
    step(`attw --profile node16 ${pkg.name}`, () => {
      // attw checks every entry of the (explicit) exports map.
      const args = [tarball, '--profile', 'node16', '--format', 'ascii'];
      run(bin('attw'), args, scratch);
    });
  }

  // 2. All tarballs together in a plain npm project outside the workspace.
  const full = join(scratch, 'full');
  mkdirSync(full);
  writeFileSync(join(full, 'package.json'), '{ "name": "scratch-full", "private": true }\n');
  cpSync(join(fixtures, 'full'), full, { recursive: true });
  step('npm install every tarball (plain npm, no workspace links)', () => {
    run('npm', ['install', ...NPM_FLAGS, ...Object.values(tarballs), TYPES_NODE], full);
  });
  step('quick start through import (ESM)', () => {
    console.log(
      run(process.execPath, ['quick-start.mjs'], full).trimEnd().replace(/^/gm, '       '),
    );
  });
  step('quick start through require (CommonJS)', () => {
    console.log(
      run(process.execPath, ['quick-start.cjs'], full).trimEnd().replace(/^/gm, '       '),
    );
  });
  // One source, three module kinds: .mts (ESM) and .cts (CommonJS) under node16, .ts under bundler.
  cpSync(join(full, 'check.ts'), join(full, 'check.mts'));
  cpSync(join(full, 'check.ts'), join(full, 'check.cts'));
  const tsc = [join(root, 'node_modules', 'typescript', 'bin', 'tsc')];
  for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
    step(`tsc -p ${config}`, () => run(process.execPath, [...tsc, '-p', config], full));
  }

  // 3. Only core, middleware and backend-undici: the optional peers must stay optional.
  const lean = join(scratch, 'lean');
  mkdirSync(lean);
  writeFileSync(join(lean, 'package.json'), '{ "name": "scratch-lean", "private": true }\n');
  cpSync(join(fixtures, 'lean'), lean, { recursive: true });
  step('npm install core, middleware and backend-undici only', () => {
    run(
      'npm',
      [
        'install',
        ...NPM_FLAGS,
        tarballs['@extapi/core'],
        tarballs['@extapi/middleware'],
        tarballs['@extapi/backend-undici'],
      ],
      lean,
    );
    const present = ['prom-client', '@opentelemetry/api', 'ioredis', 'redis-semaphore'].filter(
      (name) => existsSync(join(lean, 'node_modules', name)),
    );
    if (present.length) throw new Error(`optional peers were installed: ${present.join(', ')}`);
  });
  step('retry, auth, limits and logging without optional peers (import)', () => {
    console.log(run(process.execPath, ['lean.mjs'], lean).trimEnd().replace(/^/gm, '       '));
  });
  step('retry, auth, limits and logging without optional peers (require)', () => {
    console.log(run(process.execPath, ['lean.cjs'], lean).trimEnd().replace(/^/gm, '       '));
  });

  // 4. The test kit: kept out of core's main entry, and usable from node:test and vitest.
  step("core's main entry does not load the test kit (dist import graph, ESM and CJS)", () => {
    const dist = join(full, 'node_modules', '@extapi', 'core', 'dist');
    for (const entry of ['index.js', 'index.cjs']) {
      for (const file of localGraph(dist, entry)) {
        const marker = TEST_KIT_MARKERS.find((name) => readFileSync(file, 'utf8').includes(name));
        if (marker) throw new Error(`${entry} loads ${file}, which holds ${marker}`);
      }
    }
  });
  const runners = join(scratch, 'runners');
  mkdirSync(runners);
  writeFileSync(
    join(runners, 'package.json'),
    '{ "name": "scratch-runners", "private": true, "type": "module" }\n',
  );
  cpSync(join(fixtures, 'runners'), runners, { recursive: true });
  step(`npm install core and ${VITEST}`, () => {
    run('npm', ['install', ...NPM_FLAGS, tarballs['@extapi/core'], VITEST], runners);
  });
  step('transport conformance under node:test (a third-party node:http transport)', () => {
    const out = run(process.execPath, ['--test', 'conformance.node-test.mjs'], runners);
    console.log(`       ${out.match(/^# pass \d+$/m)?.[0] ?? out}`);
  });
  step('transport conformance under vitest 4.1 (a third-party node:http transport)', () => {
    const vitest = join(runners, 'node_modules', 'vitest', 'vitest.mjs');
    const out = run(process.execPath, [vitest, 'run', '--reporter=dot'], runners, {
      NO_COLOR: '1',
    });
    console.log(`       ${out.match(/Tests\s+\d+ passed[^\n]*/)?.[0] ?? out}`);
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(
  failures === 0 ? 'packages: every check passed' : `packages: ${failures} check(s) failed`,
);
process.exit(failures === 0 ? 0 : 1);
