// `npm run pack`: builds the four packages and packs them as installable tarballs into packs/, the
// way npm would download them once published. Prints the `npm install` line for your project.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PNPM, prepare, quietStep, root } from './prepare.mjs';

prepare({ declarations: true });
const packs = join(root, 'packs');
rmSync(packs, { recursive: true, force: true });
mkdirSync(packs);
for (const dir of readdirSync(join(root, 'packages'))) {
  const { name } = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  quietStep(`packing ${name}`, 'npx', [
    ...PNPM,
    '--dir',
    join('packages', dir),
    'pack',
    '--pack-destination',
    packs,
  ]);
}
const tarballs = readdirSync(packs)
  .filter((file) => file.endsWith('.tgz'))
  .map((file) => join(packs, file));
console.log(
  `\n${tarballs.length} tarballs in ${relative(process.cwd(), packs) || '.'}/. In your project:\n`,
);
console.log(`  npm install ${tarballs.join(' ')}\n`);
console.log('(Install the ones you use together in one command: each depends on @extapi/core.)');
