/**
 * Kernel nfsd backend: netroot owns one exports file (default /etc/exports.d/netroot.exports),
 * writes it atomically, runs `exportfs -ra`, reads back what exportfs recorded in its etab and
 * compares. An exportfs error or any difference restores the previous file and re-runs exportfs,
 * so the previous table stays live. No other file is ever written.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { CommandError, runCommand, type Runner } from '../runner.js';
import { readFileOrNull, removeStaleTemps, restoreFile, writeFileAtomic } from './atomic.js';
import { findConflicts, readForeignExports, type ForeignExports } from './conflicts.js';
import { parseEtab, parseExportsFile, renderKernelExports } from './kernel-format.js';
import { checkExportPaths } from './paths.js';
import { exportPairs, flattenTable } from './table.js';
import type { ApplyResult, ExportConflict, ExportTable, NfsBackend } from './types.js';

export interface KernelBackendOptions {
  /** The file netroot owns; default /etc/exports.d/netroot.exports. */
  filePath?: string;
  /** Checked for conflicting entries, never written; default /etc/exports. */
  etcExportsPath?: string;
  /** Where exportfs records what it applied; default /var/lib/nfs/etab. */
  etabPath?: string;
  /** exportfs binary; default "exportfs" (from PATH). */
  exportfs?: string;
  runner?: Runner;
  timeoutMs?: number;
}

export const KERNEL_DEFAULTS = {
  filePath: '/etc/exports.d/netroot.exports',
  etcExportsPath: '/etc/exports',
  etabPath: '/var/lib/nfs/etab',
} as const;

export class KernelNfsBackend implements NfsBackend {
  readonly name = 'kernel' as const;
  readonly filePath: string;
  private readonly etcExportsPath: string;
  private readonly etabPath: string;
  private readonly exportfsBin: string;
  private readonly runner: Runner;
  private readonly timeoutMs: number;

  constructor(opts: KernelBackendOptions = {}) {
    this.filePath = opts.filePath ?? KERNEL_DEFAULTS.filePath;
    this.etcExportsPath = opts.etcExportsPath ?? KERNEL_DEFAULTS.etcExportsPath;
    this.etabPath = opts.etabPath ?? KERNEL_DEFAULTS.etabPath;
    this.exportfsBin = opts.exportfs ?? 'exportfs';
    this.runner = opts.runner ?? runCommand;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    if (!this.filePath.endsWith('.exports')) throw new RangeError(`filePath: exportfs only reads *.exports files in exports.d: ${this.filePath}`);
  }

  async render(table: ExportTable): Promise<string> {
    return renderKernelExports(table);
  }

  readCurrent(): Promise<string | null> {
    return readFileOrNull(this.filePath);
  }

  async readExported(): Promise<Set<string>> {
    return exportPairs(parseExportsFile((await this.readCurrent()) ?? ''));
  }

  async conflicts(table: ExportTable): Promise<ExportConflict[]> {
    return findConflicts(table, await readForeignExports(this.filePath, this.etcExportsPath));
  }

  async apply(wanted: ExportTable): Promise<ApplyResult> {
    const base = { backend: this.name, differences: [] as string[], warnings: [] as string[] };
    const fail = (error: string, extra: Partial<ApplyResult> = {}): ApplyResult =>
      ({ ...base, conflicts: [], ok: false, changed: false, error, ...extra, at: new Date().toISOString() });

    const checked = await checkExportPaths(wanted);
    if (checked.fatal.length) return fail(`images tree is not a directory: ${checked.fatal.join(', ')}`);
    if (checked.dropped.length) base.warnings.push(`state exports left out, directory missing: ${checked.dropped.join(', ')}`);
    const table = checked.table;
    const text = renderKernelExports(table);

    await mkdir(dirname(this.filePath), { recursive: true });
    const stale = await removeStaleTemps(this.filePath);
    if (stale.length) base.warnings.push(`removed temp files of an interrupted apply: ${stale.join(', ')}`);
    const previous = await this.readCurrent();
    const foreign = await readForeignExports(this.filePath, this.etcExportsPath);
    const conflicts = findConflicts(table, foreign);
    const changed = previous !== text;
    if (changed) await writeFileAtomic(this.filePath, text);

    const rollback = async (reason: string, differences: string[]): Promise<ApplyResult> => {
      let error = reason;
      if (changed) {
        await restoreFile(this.filePath, previous);
        const again = await this.exportfs(table);
        if (again.error) error += `; re-running exportfs after restoring the previous file also failed: ${again.error}`;
      }
      return fail(error, { conflicts, differences, changed: false });
    };

    const ran = await this.exportfs(table);
    base.warnings.push(...ran.warnings);
    if (ran.error) return rollback(`exportfs -ra failed: ${ran.error}`, []);
    const differences = await this.readback(table, previous, foreign);
    if (differences.length) return rollback(`exportfs did not apply the table as written (${differences.length} differences)`, differences);
    return { ...base, ok: true, changed, conflicts, at: new Date().toISOString() };
  }

  /** Runs exportfs -ra. A non-zero exit counts only when its messages are about netroot's file or
   * paths: an error in someone else's /etc/exports line is theirs (reported as a warning). */
  private async exportfs(table: ExportTable): Promise<{ error?: string; warnings: string[] }> {
    try {
      const r = await this.runner([this.exportfsBin, '-ra'], { timeoutMs: this.timeoutMs });
      return { warnings: r.stderr.trim() ? [`exportfs: ${r.stderr.trim()}`] : [] };
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      if (e.reason !== 'exit') return { error: e.message, warnings: [] };
      const own = basename(this.filePath);
      const paths = table.entries.map((x) => x.path);
      const lines = e.stderr.split('\n').filter((l) => l.trim());
      const ours = lines.filter((l) => l.includes(`${own}:`) || paths.some((p) => l.includes(p)));
      if (ours.length) return { error: ours.join(' | '), warnings: [] };
      return { warnings: [`exportfs exited with ${e.code} for entries outside netroot's file: ${lines.join(' | ')}`] };
    }
  }

  /** Compares the table with exportfs's etab: every (path, client) present with the options asked,
   * and nothing left exported for a path netroot served before unless another file declares it. */
  private async readback(table: ExportTable, previous: string | null, foreign: ForeignExports[]): Promise<string[]> {
    const etab = parseEtab((await readFileOrNull(this.etabPath)) ?? '');
    const live = new Map(etab.map((e) => [`${e.path} ${e.host}`, e.options]));
    const want = flattenTable(table);
    const diffs: string[] = [];
    for (const [key, opts] of want) {
      const got = live.get(key);
      if (!got) {
        diffs.push(`${key}: not exported`);
        continue;
      }
      const lacking = opts.split(',').filter((o) => !got.includes(o));
      if (lacking.length) diffs.push(`${key}: asked ${opts}, exportfs has ${got.join(',')}`);
    }
    const declared = new Set(foreign.flatMap((f) => f.entries.flatMap((e) => e.clients.map((c) => `${e.path} ${c.host}`))));
    const ourPaths = new Set([...table.entries.map((e) => e.path), ...parseExportsFile(previous ?? '').map((e) => e.path)]);
    for (const e of etab) {
      const key = `${e.path} ${e.host}`;
      if (ourPaths.has(e.path) && !want.has(key) && !declared.has(key)) diffs.push(`${key}: still exported`);
    }
    return diffs;
  }
}
