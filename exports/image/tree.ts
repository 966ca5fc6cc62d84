/** Removing a version's tree (retention, failed pulls). Names are validated: nothing outside images/. */
import { rm } from 'node:fs/promises';
import { versionPaths } from './names.js';

export async function removeVersionTree(imagesDir: string, image: string, version: string): Promise<void> {
  await rm(versionPaths(imagesDir, image, version).dir, { recursive: true, force: true, maxRetries: 3 });
}
