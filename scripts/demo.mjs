// `npm run demo`: installs and builds quietly, then runs examples/demo.mjs (a tour of the client
// against a local demo API). No internet is needed beyond the npm registry for the install.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { prepare, root } from './prepare.mjs';

prepare({ declarations: false });
console.log('');
const demo = spawnSync(process.execPath, [join(root, 'examples', 'demo.mjs')], {
  cwd: join(root, 'examples'),
  stdio: 'inherit',
});
process.exit(demo.status ?? 1);
