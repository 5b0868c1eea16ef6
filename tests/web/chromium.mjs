// The checks in a real headless Chromium: Debian's /usr/bin/chromium (or CHROMIUM_BIN) driven by
// playwright-core, which downloads no browser of its own. The page comes from a third local origin,
// so every call of the checks is cross-origin and goes through CORS as a partner API's would.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { bundle } from './bundle.mjs';
import { startWebServers } from './server.mjs';

const EXECUTABLE = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// A hang guard only, far above the few seconds the checks take on a busy machine.
const DEADLINE_MS = 4 * 60_000;

/**
 * Runs the checks in Chromium and returns `{ passed, failed, expected, lines, about }`. A missing
 * Chromium is a failure, never a skip: scripts/test-env.mjs installs it (apt-get) before the tests.
 * @example
 * const { passed, failed } = await runChromium();
 */
export async function runChromium() {
  if (!existsSync(EXECUTABLE)) {
    throw new Error(
      `no Chromium at ${EXECUTABLE}: install it (apt-get install chromium; scripts/test-env.mjs does so when it may) or set CHROMIUM_BIN`,
    );
  }
  const code = await bundle('browser');
  const servers = await startWebServers({ page: { bundle: code } });
  const profile = mkdtempSync(join(tmpdir(), 'extapi-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: EXECUTABLE,
      headless: true,
      args: ARGS,
      timeout: DEADLINE_MS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems = [];
    page.on('pageerror', (error) => problems.push(`not ok - page error: ${error.message}`));
    const query = new URLSearchParams({ api: servers.api.url, other: servers.other.url });
    await page.goto(`${servers.pageUrl}/?${query}`, { timeout: DEADLINE_MS });
    await page.waitForFunction(() => window.__results !== undefined, null, {
      timeout: DEADLINE_MS,
    });
    // window.__results is a promise: evaluate waits for it, and the hang guard for evaluate.
    let timer;
    const hang = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`hang guard: no results in ${DEADLINE_MS} ms`)),
        DEADLINE_MS,
      );
    });
    const result = await Promise.race([page.evaluate(() => window.__results), hang]).finally(() =>
      clearTimeout(timer),
    );
    // The full version (the user agent's is reduced to 156.0.0.0).
    const { product } = await (await context.newCDPSession(page)).send('Browser.getVersion');
    const about = `chromium ${product.replace(/^\D*\//, '')}`;
    return {
      ...result,
      failed: result.failed + problems.length,
      lines: [...result.lines, ...problems],
      about,
    };
  } finally {
    await context?.close();
    await servers.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
