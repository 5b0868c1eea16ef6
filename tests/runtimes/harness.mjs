// A runner small enough to behave the same on Node, Bun and Deno: cases run one after another, each
// under a hang guard (a generous deadline that only turns a hang into a failure, never a timing
// assertion), and the outcome is one line per case plus a closing "N passed, N failed" line.

/** The runtime this module runs on, with its version: `node v22.…`, `bun 1.4.5`, `deno 2.9.6`. */
export function runtimeName() {
  if (globalThis.Bun) return `bun ${globalThis.Bun.version}`;
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`;
  return `node ${process.version}`;
}

/** The bare runtime name, the key of `expectedFailures` tables. */
export function runtimeKind() {
  return globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
}

const HANG_GUARD_MS = 60_000;

function guard(promise, ms, title) {
  let timer;
  const hang = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hang guard: "${title}" still running after ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

/**
 * Runs `groups` (`{ title, setup?, teardown?, cases: [{ title, run, timeoutMs?, expectedFailure? }] }`)
 * in order and returns `{ passed, failed, expected }`. A case with `expectedFailure` (a reason the
 * README's runtimes table gives) counts as `expected` when it fails and as a failure when it passes,
 * so the table cannot keep a "no" that has become a "yes". Lines go to `log` (console.log by default;
 * a page or a worker collects them to hand back to the Node runner).
 */
export async function runGroups(groups, { prefix = '', log = console.log } = {}) {
  const result = { passed: 0, failed: 0, expected: 0 };
  for (const group of groups) {
    try {
      if (group.setup) await guard(group.setup(), HANG_GUARD_MS, `${group.title} setup`);
    } catch (error) {
      result.failed += group.cases.length;
      log(`${prefix}not ok - ${group.title}: setup failed, ${group.cases.length} cases not run`);
      log(indent(error));
      continue;
    }
    for (const c of group.cases) {
      const title = `${group.title} › ${c.title}`;
      let error;
      try {
        await guard(
          Promise.resolve().then(c.run),
          Math.max(HANG_GUARD_MS, c.timeoutMs ?? 0),
          title,
        );
      } catch (caught) {
        error = caught ?? new Error('rejected with no reason');
      }
      if (c.expectedFailure !== undefined) {
        if (error === undefined) {
          result.failed++;
          log(
            `${prefix}not ok - ${title}: passed, but is listed as failing here (${c.expectedFailure}); update README.md's runtimes table`,
          );
        } else {
          result.expected++;
          const got = (error instanceof Error ? error.message : String(error)).split('\n')[0];
          log(`${prefix}ok - ${title} # expected failure: ${c.expectedFailure}`);
          log(`${prefix}    got: ${got.slice(0, 240)}`);
        }
      } else if (error === undefined) {
        result.passed++;
        log(`${prefix}ok - ${title}`);
      } else {
        result.failed++;
        log(`${prefix}not ok - ${title}`);
        log(indent(error));
      }
    }
    try {
      if (group.teardown) await guard(group.teardown(), HANG_GUARD_MS, `${group.title} teardown`);
    } catch (error) {
      result.failed++;
      log(`${prefix}not ok - ${group.title}: teardown failed`);
      log(indent(error));
    }
  }
  return result;
}

function indent(error) {
  const text = error instanceof Error ? (error.stack ?? String(error)) : String(error);
  return text
    .split('\n')
    .slice(0, 12)
    .map((line) => `    ${line}`)
    .join('\n');
}
