/**
 * Child process for the kill -9 test: applies two tables alternately, forever, through the real
 * kernel backend (atomic write + exportfs in the sandbox). Argument: JSON {root (the sandbox), dir (exported trees)}.
 */
import { KernelNfsBackend } from '../../../exports/nfs/kernel.js';
import { crashTables } from './crash-tables.js';
import { sandboxRunner } from './sandbox.js';

const { root, dir } = JSON.parse(process.argv[2] ?? '{}') as { root: string; dir: string };
const be = new KernelNfsBackend({
  filePath: `${root}/exports.d/netroot.exports`,
  etcExportsPath: `${root}/exports`,
  etabPath: `${root}/lib/etab`,
  runner: sandboxRunner(root),
});
const [a, b] = crashTables(dir);
for (let i = 0; ; i++) {
  const r = await be.apply(i % 2 === 0 ? a : b);
  process.stdout.write(`applied ${i} ${r.ok ? 'ok' : `failed ${r.error ?? ''}`}\n`);
}
