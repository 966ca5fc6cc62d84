/**
 * Backup and restore. A backup is a tar.gz holding a consistent online copy of the database
 * (SQLite's backup API, safe while the service writes), the config file, netroot's SSH identity
 * and a manifest. Restore needs the service stopped and keeps what it replaces beside it.
 */
import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runCommand } from '../exports/runner.js';
import { VERSION } from './version.js';

export interface BackupManifest {
  netroot: string;
  createdAt: string;
  schemaVersion: number;
  dataDir: string;
  config: string | null;
  files: string[];
}

export const PID_FILE = 'netroot.pid';

/** The PID of a running netroot on this data dir, if any. */
export function runningPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('netroot') ? pid : null;
  } catch {
    return null;
  }
}

export async function backup(o: { dataDir: string; configPath: string | null; file: string }): Promise<BackupManifest> {
  const out = resolve(o.file);
  const tmp = mkdtempSync(join(dirname(out), '.netroot-backup-'));
  try {
    const db = new Database(join(o.dataDir, 'netroot.db'), { readonly: true, fileMustExist: true });
    let schemaVersion = 0;
    try {
      await db.backup(join(tmp, 'netroot.db'));
      schemaVersion = (db.prepare('SELECT version FROM schema_version').get() as { version: number }).version;
    } finally {
      db.close();
    }
    const files = ['netroot.db'];
    if (o.configPath && existsSync(o.configPath)) {
      copyFileSync(o.configPath, join(tmp, 'netroot.json'));
      files.push('netroot.json');
    }
    const ssh = join(o.dataDir, 'ssh');
    if (existsSync(ssh)) {
      cpSync(ssh, join(tmp, 'ssh'), { recursive: true });
      files.push('ssh/');
    }
    const manifest: BackupManifest = { netroot: VERSION, createdAt: new Date().toISOString(), schemaVersion, dataDir: o.dataDir, config: o.configPath, files };
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    const part = `${out}.part`;
    await runCommand(['tar', '-czf', part, '-C', tmp, '.'], { timeoutMs: 600_000 });
    chmodSync(part, 0o600); // it holds the SSH private key and token hashes
    renameSync(part, out);
    return manifest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function restore(o: { dataDir: string; configPath: string | null; file: string; now?: Date }): Promise<{ manifest: BackupManifest; kept: string[] }> {
  const pid = runningPid(o.dataDir);
  if (pid) throw new Error(`netroot is running (pid ${pid}) on ${o.dataDir}: stop it before restoring`);
  const tmp = mkdtempSync(join(tmpBase(o.dataDir), '.netroot-restore-'));
  try {
    await runCommand(['tar', '-xzf', resolve(o.file), '-C', tmp, '--no-same-owner'], { timeoutMs: 600_000 });
    const manifest = JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8')) as BackupManifest;
    const db = new Database(join(tmp, 'netroot.db'), { readonly: true, fileMustExist: true });
    try {
      const check = db.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`the backup's database fails its integrity check: ${String(check)}`);
    } finally {
      db.close();
    }
    const stamp = (o.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z');
    const kept: string[] = [];
    const keep = (p: string) => {
      if (!existsSync(p)) return;
      const to = `${p}.pre-restore-${stamp}`;
      renameSync(p, to);
      kept.push(to);
    };
    const dbPath = join(o.dataDir, 'netroot.db');
    keep(dbPath);
    keep(`${dbPath}-wal`);
    keep(`${dbPath}-shm`);
    // The DHCP lease journal (store/sqlite/lease-journal.ts) is replayed over the table at start:
    // the replaced database's must not be replayed over the restored one.
    for (const name of existsSync(o.dataDir) ? readdirSync(o.dataDir) : []) if (/^netroot\.db-leases\.\d+$/.test(name)) keep(join(o.dataDir, name));
    copyFileSync(join(tmp, 'netroot.db'), dbPath);
    if (o.configPath && existsSync(join(tmp, 'netroot.json'))) {
      keep(o.configPath);
      copyFileSync(join(tmp, 'netroot.json'), o.configPath);
    }
    if (existsSync(join(tmp, 'ssh'))) {
      keep(join(o.dataDir, 'ssh'));
      cpSync(join(tmp, 'ssh'), join(o.dataDir, 'ssh'), { recursive: true });
    }
    return { manifest, kept };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function tmpBase(dataDir: string): string {
  return existsSync(dataDir) ? dataDir : dirname(dataDir);
}
