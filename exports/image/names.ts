/**
 * Image and version names become directories under the images tree (and NFS export paths):
 * a name that could escape it (`..`, `/`, leading dot) is refused here, once.
 */
import { join, resolve, sep } from 'node:path';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function check(name: string, field: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.includes('..')) {
    throw new Error(`${field}: ${JSON.stringify(name)} must be 1-63 letters, digits, . _ - (not starting with . or -, no ..)`);
  }
  return name;
}

export const validateImageName = (name: string): string => check(name, 'image');
export const validateVersionName = (name: string): string => check(name, 'version');

export interface VersionPaths {
  dir: string;
  root: string;
  boot: string;
  kernel: string;
  initramfs: string;
  manifest: string;
}

export function imageDir(imagesDir: string, image: string): string {
  const base = resolve(imagesDir);
  const d = resolve(base, validateImageName(image));
  if (!d.startsWith(base + sep)) throw new Error(`image: ${JSON.stringify(image)} escapes the images tree`);
  return d;
}

export function versionPaths(imagesDir: string, image: string, version: string): VersionPaths {
  const idir = imageDir(imagesDir, image);
  const dir = resolve(idir, validateVersionName(version));
  if (!dir.startsWith(idir + sep)) throw new Error(`version: ${JSON.stringify(version)} escapes the images tree`);
  const boot = join(dir, 'boot');
  return { dir, root: join(dir, 'root'), boot, kernel: join(boot, 'vmlinuz'), initramfs: join(boot, 'initramfs.img'), manifest: join(boot, 'manifest.json') };
}

/** `YYYYMMDD-HHMMSS` (UTC), sortable; `-2`, `-3`... when taken. */
export function newVersionName(existing: readonly string[], now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  if (!existing.includes(base)) return base;
  for (let i = 2; ; i++) if (!existing.includes(`${base}-${i}`)) return `${base}-${i}`;
}
