/** Exports in files netroot does not own that cover netroot's paths (reported, never edited). */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readFileOrNull } from './atomic.js';
import { parseExportsFile, type ParsedExport } from './kernel-format.js';
import type { ExportConflict, ExportTable } from './types.js';
import { isSameOrUnder } from './validate.js';

export interface ForeignExports {
  file: string;
  entries: ParsedExport[];
}

/** /etc/exports and every other `*.exports` file beside netroot's own, as exportfs reads them. */
export async function readForeignExports(ownFile: string, etcExports: string): Promise<ForeignExports[]> {
  const files = [etcExports];
  const dir = dirname(ownFile);
  try {
    for (const n of (await readdir(dir)).sort()) {
      if (n.endsWith('.exports') && !n.startsWith('.') && n !== basename(ownFile)) files.push(join(dir, n));
    }
  } catch {
    // no exports.d yet: only /etc/exports
  }
  const out: ForeignExports[] = [];
  for (const file of files) {
    const text = await readFileOrNull(file);
    if (text !== null) out.push({ file, entries: parseExportsFile(text) });
  }
  return out;
}

export function findConflicts(table: ExportTable, foreign: readonly ForeignExports[]): ExportConflict[] {
  const ours = table.entries.map((e) => e.path);
  const out: ExportConflict[] = [];
  for (const f of foreign) {
    for (const e of f.entries) {
      if (ours.includes(e.path)) {
        out.push({ file: f.file, line: e.line, path: e.path, kind: 'same-path', text: e.text });
      } else if (ours.some((p) => isSameOrUnder(p, e.path))) {
        // A parent export hands its clients netroot's whole tree (state of every node included).
        out.push({ file: f.file, line: e.line, path: e.path, kind: 'ancestor', text: e.text });
      }
    }
  }
  return out;
}
