/**
 * NFS-Ganesha backend: netroot owns an EXPORT-block file that the main ganesha.conf includes,
 * writes it atomically and applies it with SIGHUP to the PID in Ganesha's pid file (what
 * `systemctl reload nfs-ganesha` does; Debian 12's 4.3 rereads EXPORT blocks on SIGHUP, and dbus
 * is often absent on appliances and in containers). The reload is confirmed from Ganesha's log;
 * a reload that logs errors restores the previous file and reloads again.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readFileOrNull, removeStaleTemps, restoreFile, writeFileAtomic } from './atomic.js';
import { parseGaneshaExportIds, parseGaneshaExports, renderGaneshaExports } from './ganesha-format.js';
import { logSize, waitForReload } from './ganesha-log.js';
import { checkExportPaths } from './paths.js';
import { exportPairs } from './table.js';
import type { ApplyResult, ExportTable, NfsBackend } from './types.js';

export interface GaneshaBackendOptions {
  /** The EXPORT-block file netroot owns; default /etc/ganesha/netroot.conf. */
  filePath?: string;
  /** Ganesha's pid file; default /run/ganesha/ganesha.pid (Debian's unit, RuntimeDirectory=ganesha). */
  pidFile?: string;
  /** Ganesha's log file (-L), read to confirm reloads; null = do not confirm (e.g. logging to syslog). */
  logPath?: string | null;
  /** Main config, checked (never written) for the %include and Only_Numeric_Owners. null = skip. */
  mainConfigPath?: string | null;
  /** How long to wait for the reload to show in the log; default 30 s. */
  reloadTimeoutMs?: number;
  /** Wait after the completion line for the error lines Ganesha logs after it; default 300 ms. */
  settleMs?: number;
  /** Sends a signal (default process.kill); injectable for tests. */
  kill?: (pid: number, signal: NodeJS.Signals | 0) => void;
}

export const GANESHA_DEFAULTS = {
  filePath: '/etc/ganesha/netroot.conf',
  pidFile: '/run/ganesha/ganesha.pid',
  logPath: '/var/log/ganesha/ganesha.log',
  mainConfigPath: '/etc/ganesha/ganesha.conf',
} as const;

interface Reload {
  error?: string;
  warnings: string[];
}

export class GaneshaBackend implements NfsBackend {
  readonly name = 'ganesha' as const;
  readonly filePath: string;
  private readonly pidFile: string;
  private readonly logPath: string | null;
  private readonly mainConfigPath: string | null;
  private readonly reloadTimeoutMs: number;
  private readonly settleMs: number;
  private readonly kill: (pid: number, signal: NodeJS.Signals | 0) => void;

  constructor(opts: GaneshaBackendOptions = {}) {
    this.filePath = opts.filePath ?? GANESHA_DEFAULTS.filePath;
    this.pidFile = opts.pidFile ?? GANESHA_DEFAULTS.pidFile;
    this.logPath = opts.logPath === undefined ? GANESHA_DEFAULTS.logPath : opts.logPath;
    this.mainConfigPath = opts.mainConfigPath === undefined ? GANESHA_DEFAULTS.mainConfigPath : opts.mainConfigPath;
    this.reloadTimeoutMs = opts.reloadTimeoutMs ?? 30_000;
    this.settleMs = opts.settleMs ?? 300;
    this.kill = opts.kill ?? ((pid, sig) => process.kill(pid, sig));
  }

  async render(table: ExportTable): Promise<string> {
    const current = await this.readCurrent();
    return renderGaneshaExports(table, parseGaneshaExportIds(current ?? ''));
  }

  readCurrent(): Promise<string | null> {
    return readFileOrNull(this.filePath);
  }

  async readExported(): Promise<Set<string>> {
    return exportPairs(parseGaneshaExports((await this.readCurrent()) ?? ''));
  }

  async apply(wanted: ExportTable): Promise<ApplyResult> {
    const warnings: string[] = [];
    const done = (r: Omit<ApplyResult, 'backend' | 'at' | 'conflicts' | 'warnings' | 'differences'> & { differences?: string[] }): ApplyResult =>
      ({ backend: this.name, conflicts: [], warnings, differences: [], ...r, at: new Date().toISOString() });

    const checked = await checkExportPaths(wanted);
    if (checked.fatal.length) return done({ ok: false, changed: false, error: `images tree is not a directory: ${checked.fatal.join(', ')}` });
    if (checked.dropped.length) warnings.push(`state exports left out, directory missing: ${checked.dropped.join(', ')}`);
    warnings.push(...(await this.checkMainConfig()));

    await mkdir(dirname(this.filePath), { recursive: true });
    const stale = await removeStaleTemps(this.filePath);
    if (stale.length) warnings.push(`removed temp files of an interrupted apply: ${stale.join(', ')}`);
    const previous = await this.readCurrent();
    const text = renderGaneshaExports(checked.table, parseGaneshaExportIds(previous ?? ''));
    const changed = previous !== text;
    if (changed) await writeFileAtomic(this.filePath, text);

    const r = await this.reload();
    warnings.push(...r.warnings);
    if (!r.error) return done({ ok: true, changed });
    let error = `ganesha reload failed: ${r.error}`;
    if (changed) {
      await restoreFile(this.filePath, previous);
      const again = await this.reload();
      if (again.error) error += `; reloading the restored previous file also failed: ${again.error}`;
    }
    return done({ ok: false, changed: false, error });
  }

  private async readPid(): Promise<number | null> {
    const text = await readFileOrNull(this.pidFile);
    const pid = Number((text ?? '').trim());
    if (!Number.isInteger(pid) || pid <= 1) return null;
    try {
      this.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  /** SIGHUP, then the log's confirmation. Not running = the file takes effect when Ganesha starts. */
  private async reload(): Promise<Reload> {
    const pid = await this.readPid();
    if (pid === null) return { warnings: [`ganesha is not running (no live pid in ${this.pidFile}): file written, it takes effect when ganesha starts`] };
    const offset = this.logPath ? await logSize(this.logPath) : 0;
    this.kill(pid, 'SIGHUP');
    if (!this.logPath) return { warnings: ['reload sent but not confirmed: no ganesha log configured'] };
    const out = await waitForReload(this.logPath, offset, this.reloadTimeoutMs, this.settleMs);
    if (!out.confirmed) return { error: `no "Reread exports complete" in ${this.logPath} within ${this.reloadTimeoutMs} ms${out.problems.length ? `: ${out.problems.join(' | ')}` : ''}`, warnings: [] };
    if (out.problems.length) return { error: out.problems.join(' | '), warnings: [] };
    return { warnings: [] };
  }

  private async checkMainConfig(): Promise<string[]> {
    if (!this.mainConfigPath) return [];
    let text: string;
    try {
      text = await readFile(this.mainConfigPath, 'utf8');
    } catch {
      return [`cannot read ${this.mainConfigPath} to check that it includes ${this.filePath}`];
    }
    const out: string[] = [];
    const body = text.replace(/#.*$/gm, '');
    if (!body.includes(this.filePath)) out.push(`${this.mainConfigPath} does not %include ${this.filePath}`);
    // docs/lab.md, trap 3: owner-name mapping deadlocks a node whose idmap helper is on the NFS root.
    if (!/Only_Numeric_Owners\s*=\s*(true|yes|1)\b/i.test(body)) out.push(`${this.mainConfigPath} lacks NFSV4 { Only_Numeric_Owners = true; }: nodes may hang at boot`);
    return out;
  }
}
