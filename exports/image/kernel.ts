/** The kernel a version boots: found in the new root, copied out as <version>/boot/vmlinuz. */
import { copyFile, chmod, lstat } from 'node:fs/promises';
import { kindIn, listIn, resolveInRoot } from './stateless/rootfs.js';

/** Compares kernel versions by their numeric runs: 5.14.0-362 > 5.14.0-284, 6.1.0-18 > 6.1.0-9. */
export function compareKernelVersions(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter(Boolean).map(Number);
  const pb = b.split(/[^0-9]+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Kernel versions with both /lib/modules/<v> and /boot/vmlinuz-<v> in the root, newest last. */
export async function bootableKernels(root: string): Promise<string[]> {
  const mods = await listIn(root, '/lib/modules');
  const out: string[] = [];
  for (const k of mods) if ((await kindIn(root, `/boot/vmlinuz-${k}`)) !== 'missing') out.push(k);
  return out.sort(compareKernelVersions);
}

/** The wanted kernel if it is bootable, else the newest bootable one. */
export async function pickKernel(root: string, wanted?: string): Promise<string> {
  const all = await bootableKernels(root);
  if (wanted !== undefined) {
    if (!all.includes(wanted)) throw new Error(`kernel: ${wanted} not in the root (found: ${all.join(', ') || 'none'})`);
    return wanted;
  }
  const k = all[all.length - 1];
  if (!k) throw new Error('kernel: no /boot/vmlinuz-<v> with /lib/modules/<v> in the root');
  return k;
}

/** Copies /boot/vmlinuz-<kver> (following in-root symlinks) to dest, world-readable. */
export async function copyKernel(root: string, kver: string, dest: string): Promise<void> {
  const src = await resolveInRoot(root, `/boot/vmlinuz-${kver}`, true);
  if (!(await lstat(src)).isFile()) throw new Error(`kernel: /boot/vmlinuz-${kver} is not a file`);
  await copyFile(src, dest);
  await chmod(dest, 0o644);
}
