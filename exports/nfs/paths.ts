/**
 * Checks that exported paths exist as directories before a backend is touched: exportfs fails
 * the whole run on a missing path and Ganesha drops that export. A missing state directory only
 * drops that node's export (one broken node must not block every other node's change); a missing
 * images tree fails the apply.
 */
import { stat } from 'node:fs/promises';
import type { ExportTable } from './types.js';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export interface PathCheck {
  /** The table without state exports whose directory is missing. */
  table: ExportTable;
  /** State paths left out. */
  dropped: string[];
  /** Images paths missing: the apply must fail. */
  fatal: string[];
}

export async function checkExportPaths(table: ExportTable): Promise<PathCheck> {
  const dropped: string[] = [];
  const fatal: string[] = [];
  const entries = [];
  for (const e of table.entries) {
    if (await isDir(e.path)) entries.push(e);
    else if (e.kind === 'state') dropped.push(e.path);
    else fatal.push(e.path);
  }
  return { table: { entries }, dropped, fatal };
}
