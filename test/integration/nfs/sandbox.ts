/**
 * Real exportfs without touching the machine's /etc/exports, /etc/exports.d or /var/lib/nfs:
 * exportfs has those paths compiled in (nfs-utils 2.6), so each run happens in a private mount
 * namespace where an overlay over /etc gets the sandbox's exports.d and exports bind-mounted in,
 * and /var/lib/nfs (etab, export-lock) is the sandbox's own directory. The backend is given the
 * sandbox paths directly; only the exportfs runner is wrapped.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type Runner } from '../../../exports/runner.js';

// Positional arguments only (no interpolation): $1 = sandbox root, the rest = the command.
// A fresh overlay upper dir per run: two overlays may not share one workdir.
const SCRIPT = [
  'set -e',
  't=$1; shift',
  'u=$(mktemp -d "$t/overlay.XXXXXX"); mkdir "$u/up" "$u/work"',
  'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$u/up,workdir=$u/work" /etc',
  'mkdir -p /etc/exports.d',
  'mount --bind "$t/exports.d" /etc/exports.d',
  'mount --bind "$t/exports" /etc/exports',
  'mount --bind "$t/lib" /var/lib/nfs',
  'exec "$@"',
].join('\n');

/** Runs argv inside the sandbox rooted at `root` (made by createExportfsSandbox). */
export function sandboxRunner(root: string): Runner {
  return (argv, opts) => runCommand(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', SCRIPT, 'netroot-sandbox', root, ...argv], opts);
}

export interface ExportfsSandbox {
  root: string;
  /** The netroot-owned file as the backend sees it (the namespace's /etc/exports.d/netroot.exports). */
  filePath: string;
  etcExportsPath: string;
  etabPath: string;
  runner: Runner;
  /** Runs a command in the sandbox (e.g. exportfs -v). */
  run(argv: string[]): ReturnType<Runner>;
  /** An executable that runs exportfs in the sandbox with its arguments: for a whole `netroot
   * serve` (config nfs.kernel.exportfs), which runs exportfs itself. */
  exportfsWrapper: string;
  destroy(): Promise<void>;
}

export async function createExportfsSandbox(): Promise<ExportfsSandbox> {
  if (process.getuid?.() !== 0) throw new Error('the exportfs sandbox needs root (mount namespaces)');
  const root = await mkdtemp(join(tmpdir(), 'nr-exportfs-'));
  await mkdir(join(root, 'exports.d'));
  await mkdir(join(root, 'lib'));
  await writeFile(join(root, 'exports'), '# sandbox /etc/exports\n');
  await writeFile(join(root, 'lib/etab'), '');
  const runner = sandboxRunner(root);
  const exportfsWrapper = join(root, 'exportfs-sandbox');
  // SCRIPT has no single quote and mkdtemp's root none either, so both quote safely.
  await writeFile(exportfsWrapper, `#!/bin/sh\nexec unshare --mount --propagation private sh -c '${SCRIPT}' netroot-sandbox '${root}' exportfs "$@"\n`);
  await chmod(exportfsWrapper, 0o755);
  return {
    root,
    filePath: join(root, 'exports.d/netroot.exports'),
    etcExportsPath: join(root, 'exports'),
    etabPath: join(root, 'lib/etab'),
    runner,
    run: (argv) => runner(argv),
    exportfsWrapper,
    destroy: () => rm(root, { recursive: true, force: true }),
  };
}
