/** Removing a version's tree (retention, failed pulls). Names are validated: nothing outside images/. */
import { readFile, rm } from 'node:fs/promises';
import { versionPaths } from './names.js';

/** Mount points at or under dir (from /proc/self/mountinfo, field 5; octal escapes decoded). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text.split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

export async function removeVersionTree(imagesDir: string, image: string, version: string): Promise<void> {
  const { dir } = versionPaths(imagesDir, image, version);
  // A chroot build that could not unmount leaves /proc, /sys or /dev bound inside the root:
  // a recursive delete would then delete the SERVER's device nodes. Refuse instead.
  const mounts = await mountsUnder(dir);
  if (mounts.length) throw new Error(`version: ${image}/${version} still has mounts (${mounts.join(', ')}); not removing it`);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
