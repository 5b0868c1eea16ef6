// Runs the web checks in a real headless Chromium and in Cloudflare workerd, and prints one line per
// runtime (`<runtime>: N passed, N failed`) and a total. A runtime's lines are printed when it fails
// (or always with --verbose). Exits 1 on any failure; a runtime that cannot start is a failure.
// Usage: node run.mjs [--verbose] [chromium|workerd …]
import { runChromium } from './chromium.mjs';
import { runWorkerd } from './workerd.mjs';

const RUNTIMES = { chromium: runChromium, workerd: runWorkerd };

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const chosen = args.filter((a) => !a.startsWith('--'));
const names = chosen.length > 0 ? chosen : Object.keys(RUNTIMES);
const total = { passed: 0, failed: 0 };
for (const name of names) {
  if (!RUNTIMES[name]) throw new Error(`unknown runtime ${name}; expected chromium or workerd`);
  let result;
  try {
    result = await RUNTIMES[name]();
  } catch (error) {
    // Could not run at all (no Chromium, workerd did not start, a hang guard): one failure.
    result = { passed: 0, failed: 1, expected: 0, lines: [`not ok - ${error.stack}`] };
  }
  if (result.failed > 0 || verbose)
    console.log(result.lines.join('\n').replace(/^/gm, `  ${name} | `));
  if (result.about) {
    const expected =
      result.expected > 0 ? `, ${result.expected} expected failures listed in README.md` : '';
    console.log(`runtime: ${result.about}${expected}`);
  }
  console.log(`${name}: ${result.passed} passed, ${result.failed} failed`);
  total.passed += result.passed;
  total.failed += result.failed;
}
console.log(`web: ${total.passed} passed, ${total.failed} failed`);
process.exit(total.failed === 0 ? 0 : 1);
