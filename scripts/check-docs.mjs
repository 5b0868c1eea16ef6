// Keeps the code in README.md and docs/ from rotting: every fenced block is extracted and checked,
// and a block that is not says so in the Markdown. Run after the build (`npm test` does).
//
// What each block gets, by the HTML comment right above it (or its language when there is none):
//   <!-- check: run -->         ts/js: type-checked, then run with node (it must exit 0)
//   <!-- check: typecheck -->   ts/js: type-checked only (the default for ts and js blocks)
//   <!-- check: skip — why -->  not checked, for the reason given (listed in the output)
//   <!-- region: file#name -->  a region of an examples/ file, word for word (that file is run)
//   `as cts` / `as cjs` after the mode picks the module kind (default: ESM, .mts/.mjs).
//   `web` after the mode (ts): checked as a browser project is instead (bundler resolution without
//   the `node` condition, lib DOM, no @types/node, no skipLibCheck): the web build's types.
// `node scripts/check-docs.mjs --verbose` also prints what each block that runs printed.
// Lines after the first of a check comment are a hidden prelude, put before the block (e.g.
// `declare const client: Client;` for a fragment). json blocks must parse; sh blocks must name
// npm scripts and files that exist; text blocks are prose (diagrams); a block without a language
// fails. Files are written to examples/.docs-check, where the workspace packages resolve.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'examples', '.docs-check');
const require = createRequire(join(root, 'package.json'));
const ts = require('typescript');
let failures = 0;
const rootScripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;

/** README.md and every Markdown file under docs/ (the generated API reference aside). */
function markdownFiles() {
  const files = [join(root, 'README.md')];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && path !== join(root, 'docs', 'api')) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk(join(root, 'docs'));
  return files;
}

const FENCE =
  /(?:<!--\s*(check|region):([\s\S]*?)-->[ \t]*\n(?:[ \t]*\n)*)?^```([\w-]*)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
const CODE = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js', cjs: 'js' };

/** Every fenced block of a Markdown file, with what its comment asks for. */
function blocks(file) {
  const text = readFileSync(file, 'utf8');
  const found = [];
  for (const m of text.matchAll(FENCE)) {
    const [whole, kind, comment = '', lang, code] = m;
    const fenceIndex = m.index + whole.indexOf('```');
    const line = text.slice(0, fenceIndex).split('\n').length + 1; // first line of code
    const [head = '', ...prelude] = comment.trim().split('\n');
    const block = { file, line, lang, code: code.replace(/\n$/, ''), prelude: prelude.join('\n') };
    if (kind === 'region') {
      found.push({ ...block, mode: 'region', ref: head.trim() });
      continue;
    }
    const spec = head.trim();
    const mode = kind === 'check' ? spec.split(/\s+/)[0] : undefined;
    const as = /\bas (cts|cjs|mts|mjs)\b/.exec(spec)?.[1];
    const web = /\bweb\b/.test(spec);
    const reason = spec.replace(/^skip\s*[—:-]?\s*/, '');
    found.push({ ...block, mode, as, web, reason });
  }
  // A fence this parser does not see (indented, in a list) would be skipped silently: refuse it.
  const fenceLines = text.split('\n').filter((line) => /^\s*```/.test(line)).length;
  if (fenceLines !== found.length * 2) {
    failures++;
    console.log(
      `FAIL ${relative(root, file)}: ${fenceLines / 2} fenced blocks, ${found.length} recognised (an indented fence?)`,
    );
  }
  return found;
}

/** `// #region name` … `// #endregion name` of an examples/ file. */
function region(ref) {
  const [file, name] = ref.split('#');
  const source = readFileSync(join(root, 'examples', file), 'utf8');
  const re = new RegExp(`^// #region ${name}\\n([\\s\\S]*?)^// #endregion ${name}$`, 'm');
  return re.exec(source)?.[1].trimEnd();
}

/** The npm scripts and files a shell block names must exist. */
function checkShell(block) {
  const problems = [];
  for (const raw of block.code.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    for (const m of line.matchAll(/\bnpm run ([\w:-]+)/g)) {
      if (!(m[1] in rootScripts)) problems.push(`npm script "${m[1]}" does not exist`);
    }
    for (const m of line.matchAll(/(?:^|&&\s*)node ((?:\.\/)?[\w./-]+\.m?[jt]s)\b/g)) {
      if (!existsSync(join(root, m[1]))) problems.push(`${m[1]} does not exist`);
    }
  }
  return problems;
}

const where = (block, offset = 0) => `${relative(root, block.file)}:${block.line + offset}`;
const fail = (block, message) => {
  failures++;
  console.log(`FAIL ${where(block)}: ${message}`);
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const compiled = []; // { block, path, preludeLines }
const counts = { run: 0, typecheck: 0, region: 0, skip: 0, json: 0, sh: 0, text: 0 };

for (const file of markdownFiles()) {
  for (const [i, block] of blocks(file).entries()) {
    const lang = CODE[block.lang];
    if (block.mode === 'region') {
      counts.region++;
      const code = region(block.ref);
      if (code === undefined) fail(block, `examples/${block.ref} has no such region`);
      else if (code !== block.code) fail(block, `differs from examples/${block.ref}`);
      continue;
    }
    if (block.mode === 'skip') {
      counts.skip++;
      if (!block.reason) fail(block, 'a skipped block must say why (<!-- check: skip — why -->)');
      else console.log(`skip ${where(block)}: ${block.reason}`);
      continue;
    }
    if (block.mode !== undefined && !['run', 'typecheck'].includes(block.mode)) {
      fail(block, `unknown check mode "${block.mode}" (run, typecheck, skip)`);
      continue;
    }
    if (block.web && (block.mode === 'run' || lang !== 'ts')) {
      fail(block, '`web` is for ts blocks that are type-checked only (Node runs the others)');
      continue;
    }
    if (lang) {
      const cjs = block.as === 'cts' || block.as === 'cjs' || /\brequire\(/.test(block.code);
      const ext = lang === 'ts' ? (cjs ? 'cts' : 'mts') : cjs ? 'cjs' : 'mjs';
      const base = relative(root, file).replace(/[/.]/g, '_');
      const path = join(out, `${base}_${String(i + 1).padStart(2, '0')}.${ext}`);
      const preludeLines = block.prelude ? block.prelude.split('\n').length : 0;
      writeFileSync(path, `${block.prelude ? `${block.prelude}\n` : ''}${block.code}\n`);
      compiled.push({ block, path, preludeLines, run: block.mode === 'run', lang, web: block.web });
      counts[block.mode === 'run' ? 'run' : 'typecheck']++;
    } else if (block.lang === 'json') {
      counts.json++;
      try {
        JSON.parse(block.code);
      } catch (error) {
        fail(block, `invalid JSON: ${error.message}`);
      }
    } else if (['sh', 'bash', 'shell'].includes(block.lang)) {
      counts.sh++;
      for (const problem of checkShell(block)) fail(block, problem);
    } else if (block.lang === 'text') {
      counts.text++;
    } else {
      fail(block, `a block needs a language (ts, js, json, sh, text), got "${block.lang}"`);
    }
  }
}

// One tsc program for the ts blocks and one for the js blocks: strict, node16 resolution, as a
// user's project would be; plain JavaScript has no annotations, so implicit `any` is allowed there.
function typecheck(entries, name, compilerOptions) {
  if (entries.length === 0) return;
  const config = {
    compilerOptions: {
      module: 'node16',
      moduleResolution: 'node16',
      target: 'es2022',
      lib: ['es2023', 'esnext.disposable'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      moduleDetection: 'force',
      ...compilerOptions,
    },
    files: entries.map(({ path }) => relative(out, path)),
  };
  writeFileSync(join(out, name), JSON.stringify(config));
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', name, '--pretty', 'false'],
    { cwd: out, encoding: 'utf8' },
  );
  if (tsc.status === 0) return;
  // Point each error at its line in the Markdown file.
  for (const line of tsc.stdout.split('\n').filter(Boolean)) {
    const m = /^(.+?)\((\d+),\d+\): (.*)$/.exec(line);
    const entry = m && entries.find(({ path }) => path === resolve(out, m[1]));
    if (entry)
      fail(entry.block, `${m[3]} (line ${Number(m[2]) - entry.preludeLines} of the block)`);
    else {
      failures++;
      console.log(`FAIL tsc: ${line}`);
    }
  }
}
typecheck(
  compiled.filter(({ lang, web }) => lang === 'ts' && !web),
  'tsconfig.ts.json',
  { allowJs: true }, // a hidden prelude may import the examples' JavaScript (the demo API)
);
typecheck(
  compiled.filter(({ lang, web }) => lang === 'ts' && web),
  'tsconfig.web.json',
  {
    module: 'esnext',
    moduleResolution: 'bundler',
    lib: ['es2022', 'dom'],
    types: [],
    skipLibCheck: false,
  },
);
typecheck(
  compiled.filter(({ lang }) => lang === 'js'),
  'tsconfig.js.json',
  { allowJs: true, checkJs: true, noImplicitAny: false },
);

// Run the blocks marked `run`: ts is transpiled to JS first (it was type-checked above).
for (const { block, path, lang, run } of compiled) {
  if (!run) continue;
  let script = path;
  if (lang === 'ts') {
    const source = readFileSync(path, 'utf8');
    const cjs = path.endsWith('.cts');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: cjs ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
      },
    });
    script = path.replace(/\.[cm]ts$/, cjs ? '.run.cjs' : '.run.mjs');
    writeFileSync(script, outputText);
  }
  const result = spawnSync(process.execPath, [script], {
    cwd: dirname(script),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) {
    fail(block, `exited ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`);
  } else {
    console.log(`ok   ${where(block)} ran`);
    // --verbose shows what each block printed, for the author who writes the guide.
    if (process.argv.includes('--verbose')) console.log(result.stdout.replace(/^/gm, '       '));
  }
}

if (failures === 0) rmSync(out, { recursive: true, force: true });
const summary = Object.entries(counts)
  .filter(([, n]) => n > 0)
  .map(([kind, n]) => `${n} ${kind}`)
  .join(', ');
console.log(
  failures === 0
    ? `docs: every code block checked (${summary})`
    : `docs: ${failures} failure(s) (${summary}); the generated files are in ${relative(root, out)}`,
);
process.exit(failures === 0 ? 0 : 1);
