// Keeps docs/writing-middleware.md honest: its code blocks must be the regions of the example files
// word for word, the example must run (its own assertions pass), and the typed version must compile.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');
const guide = read('../docs/writing-middleware.md');

/** `// #region name` … `// #endregion name` blocks of a source file, by name. */
function regions(source) {
  const found = new Map();
  for (const m of source.matchAll(/^\/\/ #region (\S+)\n([\s\S]*?)^\/\/ #endregion \1$/gm)) {
    found.set(m[1], m[2].trimEnd());
  }
  return found;
}

/** The guide's code blocks announced by `<!-- region: file#name -->`, by `file#name`. */
function guideBlocks() {
  const found = new Map();
  const pattern = /<!-- region: (\S+) -->\n```(?:js|ts)\n([\s\S]*?)\n```/g;
  for (const m of guide.matchAll(pattern)) found.set(m[1], m[2]);
  return found;
}

test('every code block of the guide is a region of an example file, word for word', () => {
  const blocks = guideBlocks();
  assert.ok(blocks.size >= 4, `the guide announces ${blocks.size} region blocks`);
  for (const [ref, code] of blocks) {
    const [file, name] = ref.split('#');
    const region = regions(read(file)).get(name);
    assert.ok(region !== undefined, `${file} has no region ${name}`);
    assert.equal(code, region, `the guide's ${ref} differs from the code that runs`);
  }
});

test('every region of the example files is in the guide', () => {
  const blocks = guideBlocks();
  const files = [
    'custom-middleware.mjs',
    'custom-middleware.types.ts',
    'middleware/request-id.mjs',
    'middleware/api-key.mjs',
    'middleware/resend-once.mjs',
    'middleware/sign-request.mjs',
  ];
  for (const file of files) {
    for (const name of regions(read(file)).keys()) {
      assert.ok(blocks.has(`${file}#${name}`), `the guide does not show ${file}#${name}`);
    }
  }
});

test('the example runs and its own checks pass', () => {
  const out = execFileSync(process.execPath, ['custom-middleware.mjs'], {
    cwd: new URL('.', import.meta.url),
    encoding: 'utf8',
  });
  for (const check of [
    'testResendOnce',
    'testAbortEndsTheWait',
    'testBadOption',
    'testPlacement',
    'realServer',
  ]) {
    assert.match(out, new RegExp(`^ok ${check}$`, 'm'));
  }
});

test('the typed version compiles, and a wrong meta type does not', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc', {
    paths: [new URL('..', import.meta.url).pathname],
  });
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
    cwd: new URL('.', import.meta.url),
    encoding: 'utf8',
  });
});
