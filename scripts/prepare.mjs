// Installs the workspace and builds the packages without printing install or build logs (they are
// shown only when a step fails). Used by `npm run demo` and `npm run pack`.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..');
export const PNPM = ['-y', 'pnpm@10.34.9'];

// Silences pnpm's update box and turbo's telemetry notice and update check.
const QUIET_ENV = {
  npm_config_update_notifier: 'false',
  TURBO_TELEMETRY_DISABLED: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  DO_NOT_TRACK: '1',
};

/** Runs `command args` in the repository; prints `label … done (N s)`, or its output and exits on failure. */
export function quietStep(label, command, args, env = {}) {
  process.stdout.write(`${label} … `);
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...QUIET_ENV, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    console.log('failed:\n');
    console.log([result.stdout, result.stderr, result.error?.message].filter(Boolean).join('\n'));
    process.exit(result.status || 1);
  }
  console.log(`done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return result.stdout;
}

/** `pnpm install` (frozen lockfile), then the four packages built by turbo. */
export function prepare({ declarations }) {
  quietStep('installing dependencies (pnpm install)', 'npx', [
    ...PNPM,
    'install',
    '--frozen-lockfile',
    '--reporter=silent',
  ]);
  quietStep(
    declarations
      ? 'building the packages (ESM, CommonJS and type declarations)'
      : 'building the packages (ESM and CommonJS; no type declarations, the demo does not need them)',
    'npx',
    [
      ...PNPM,
      'exec',
      'turbo',
      'run',
      'build',
      '--filter=./packages/*',
      '--output-logs=errors-only',
    ],
    declarations ? {} : { EXTAPI_SKIP_DTS: '1' },
  );
}
