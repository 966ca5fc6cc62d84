/** <version>/boot/manifest.json: what a version is, with sha256s of what nodes download. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile, rename } from 'node:fs/promises';

export interface ManifestFile {
  sha256: string;
  size: number;
}

export interface Manifest {
  image: string;
  version: string;
  createdAt: string;
  kernel: string;
  /** fingerprint: the golden tree as rsync listed it (SourceListing), for "unchanged" re-pulls. */
  source: { host: string; address: string; path: string; fingerprint?: string };
  /** The pipeline's inputs besides the tree (settings, boot report, pipeline revision), hashed. */
  settingsKey?: string;
  previous: string | null;
  /** drivers: what --add-drivers got besides nfs/nfsv4 (the image's, or the golden host's loaded ones). */
  initramfs: { builtOn: 'golden' | 'chroot'; dracutModules: string[]; drivers?: string[] };
  files: Record<string, ManifestFile>;
}

export async function sha256File(path: string): Promise<ManifestFile> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return { sha256: h.digest('hex'), size: (await stat(path)).size };
}

export async function readManifest(path: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

export async function writeManifest(path: string, m: Manifest): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}
