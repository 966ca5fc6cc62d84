/** Golden files for the NFS renderers live in test/fixtures/nfs/ (repo root, beside dist/). */
import { readFileSync } from 'node:fs';

export function readGolden(name: string): string {
  // Compiled tests run from dist/exports/nfs/: three levels up is the repository root.
  return readFileSync(new URL(`../../../test/fixtures/nfs/${name}`, import.meta.url), 'utf8');
}
