/**
 * Per-node state directories `state/<fqdn>` (seed: "create a folder containing the FQDN of each
 * node"; mounted by the node's readonly-root for its statetab paths). Created at registration,
 * renamed with the FQDN, moved to `state/.archive/<fqdn>-<timestamp>` on deletion (never deleted)
 * and restorable from there. Every path is one validated FQDN component below the state dir's
 * realpath, and no operation follows a symlink a node may have planted.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, chown, copyFile, lstat, mkdir, readdir, realpath, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ExportInputError } from '../nfs/errors.js';
import { validateExportPath, validateFqdn } from '../nfs/validate.js';
import { archiveName, parseArchiveName, type ArchiveName } from './archive-name.js';
import { StateDirError } from './errors.js';
import { emptyDirsBottomUp, mkdirBelow, usageOf, type Usage } from './walk.js';

export const ARCHIVE_DIR = '.archive';
/** Directories being created: `.new.<fqdn>.<pid>.<random>`, renamed to `<fqdn>` when complete. */
const TEMP_PREFIX = '.new.';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StateDirsOptions {
  /** Absolute path of the state tree (`<data>/state`). */
  stateDir: string;
  /** Mode of new state directories; default 0o755. */
  mode?: number;
  /** Owner of new state directories; default: netroot's own user. */
  uid?: number;
  gid?: number;
  now?: () => Date;
}

export interface CreateStateOptions {
  mode?: number;
  uid?: number;
  gid?: number;
  /** The image's statetab paths (e.g. /var/log), pre-created inside the state dir. */
  statetabPaths?: string[];
  /** The image's root tree: statetab paths then take type, mode and owner from it, and files are
   * copied (readonly-root would copy them on first boot). Without it every path is a directory. */
  imageRoot?: string;
}

export interface CreateResult {
  path: string;
  /** False when the directory already existed (create is idempotent). */
  created: boolean;
  /** Statetab paths created as directories / copied as files / skipped (symlink in the image). */
  precreated: string[];
  copied: string[];
  skipped: string[];
}

/** What sits at `state/<name>`: a plain directory, or something else (file, symlink, device). */
export type StateEntryKind = 'dir' | 'other';

export interface RenameOptions {
  /** A target holding nothing but empty directories (a skeleton made for the new name before
   * the rename ran) gives way instead of failing: it holds no data, and the node's state is in
   * the old directory. */
  replaceEmpty?: boolean;
}

export interface ArchivedDir extends ArchiveName {
  path: string;
}

function checkFqdn(fqdn: string, field: string): string {
  try {
    return validateFqdn(fqdn, field);
  } catch (e) {
    if (e instanceof ExportInputError) throw new StateDirError('STATE_INPUT', e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

function statetabParts(p: string, field: string): string[] {
  try {
    return validateExportPath(p, field).split('/').slice(1);
  } catch (e) {
    if (e instanceof ExportInputError) throw new StateDirError('STATE_INPUT', e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export class StateDirectories {
  private readonly stateDir: string;
  private readonly mode: number;
  private readonly uid: number | undefined;
  private readonly gid: number | undefined;
  private readonly now: () => Date;

  constructor(opts: StateDirsOptions) {
    this.stateDir = validateExportPath(opts.stateDir, 'stateDir');
    this.mode = opts.mode ?? 0o755;
    this.uid = opts.uid;
    this.gid = opts.gid;
    this.now = opts.now ?? (() => new Date());
    if ((this.uid === undefined) !== (this.gid === undefined)) throw new RangeError('uid/gid: give both or neither');
  }

  private async root(): Promise<string> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o755 });
    return realpath(this.stateDir);
  }

  /** The node's directory; must be a real directory (not a symlink) when `mustExist`. */
  private async nodeDir(fqdn: string, field: string, mustExist: boolean): Promise<string> {
    const p = join(await this.root(), checkFqdn(fqdn, field));
    const st = await lstatOrNull(p);
    if (st && (st.isSymbolicLink() || !st.isDirectory())) throw new StateDirError('STATE_UNSAFE', field, `${p} is not a plain directory`);
    if (mustExist && !st) throw new StateDirError('STATE_NOT_FOUND', field, `no state directory for ${fqdn}`);
    if (!mustExist && st) throw new StateDirError('STATE_EXISTS', field, `a state directory for ${fqdn} already exists`);
    return p;
  }

  /** The path a node's state dir has (for CLIENTSTATE and the export table). */
  path(fqdn: string): string {
    return join(this.stateDir, checkFqdn(fqdn, 'fqdn'));
  }

  /**
   * Makes `state/<fqdn>` with its statetab paths. A new directory is built under a temporary
   * dot-name and renamed into place, so a kill -9 never leaves a half-seeded directory that looks
   * done: it is complete or absent (a leftover temp is removed by removeStaleTemps). An existing
   * directory gets the statetab paths it lacks, in place.
   */
  async create(fqdn: string, opts: CreateStateOptions = {}): Promise<CreateResult> {
    const root = await this.root();
    const dir = join(root, checkFqdn(fqdn, 'fqdn'));
    const mode = opts.mode ?? this.mode;
    const uid = opts.uid ?? this.uid;
    const gid = opts.gid ?? this.gid;
    const st = await lstatOrNull(dir);
    if (st && (st.isSymbolicLink() || !st.isDirectory())) throw new StateDirError('STATE_UNSAFE', 'fqdn', `${dir} exists and is not a plain directory`);
    if (!st) {
      const tmpName = `${TEMP_PREFIX}${fqdn}.${process.pid}.${randomBytes(4).toString('hex')}`;
      const tmp = join(root, tmpName);
      await mkdirBelow(root, [tmpName], mode, uid, gid, 'fqdn');
      try {
        const seeded = await this.seed(tmp, opts, mode, uid, gid);
        await rename(tmp, dir);
        return { path: dir, created: true, ...seeded };
      } catch (e) {
        await rm(tmp, { recursive: true, force: true });
        // Made meanwhile by someone else (rename does not replace a non-empty directory): seed it.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      }
    }
    return { path: dir, created: false, ...(await this.seed(dir, opts, mode, uid, gid)) };
  }

  private async seed(dir: string, opts: CreateStateOptions, mode: number, uid?: number, gid?: number): Promise<Omit<CreateResult, 'path' | 'created'>> {
    const out = { precreated: [] as string[], copied: [] as string[], skipped: [] as string[] };
    for (const [i, p] of (opts.statetabPaths ?? []).entries()) {
      const parts = statetabParts(p, `statetabPaths[${i}]`);
      const src = opts.imageRoot ? await lstatOrNull(join(opts.imageRoot, ...parts)) : null;
      if (src?.isSymbolicLink()) {
        out.skipped.push(p);
        continue;
      }
      if (src?.isFile()) {
        await mkdirBelow(dir, parts.slice(0, -1), mode, uid, gid);
        const target = join(dir, ...parts);
        if (await lstatOrNull(target)) continue;
        await copyFile(join(opts.imageRoot!, ...parts), target, constants.COPYFILE_EXCL);
        await chmod(target, src.mode & 0o7777);
        await chown(target, src.uid, src.gid);
        out.copied.push(p);
        continue;
      }
      await mkdirBelow(dir, parts.slice(0, -1), mode, uid, gid);
      const last = await mkdirBelow(dir, parts, src ? src.mode & 0o7777 : mode, src ? src.uid : uid, src ? src.gid : gid);
      if (last) out.precreated.push(p);
    }
    return out;
  }

  /** Removes the temporary directories of creates whose process died (kill -9 mid-create);
   * returns their names. They were never exported: a dot-name is no FQDN. */
  async removeStaleTemps(): Promise<string[]> {
    const root = await this.root();
    const stale = (await readdir(root)).filter((n) => {
      if (!n.startsWith(TEMP_PREFIX)) return false;
      const pid = Number(n.split('.').at(-2));
      return !Number.isInteger(pid) || pid <= 0 || (pid !== process.pid && !alive(pid));
    });
    for (const n of stale) await rm(join(root, n), { recursive: true, force: true });
    return stale;
  }

  async exists(fqdn: string): Promise<boolean> {
    const st = await lstatOrNull(join(await this.root(), checkFqdn(fqdn, 'fqdn')));
    return st !== null && st.isDirectory() && !st.isSymbolicLink();
  }

  /** Every entry directly below the state dir except dot-names (`.archive`), with its kind.
   * One readdir, so the reconciler can compare thousands of nodes without a stat each. */
  async list(): Promise<Map<string, StateEntryKind>> {
    const out = new Map<string, StateEntryKind>();
    for (const d of await readdir(await this.root(), { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      // d_type describes the entry itself: a symlink to a directory is 'other'.
      out.set(d.name, d.isDirectory() ? 'dir' : 'other');
    }
    return out;
  }

  /** Follows an FQDN change; the new name must be free (or, with replaceEmpty, hold no data). */
  async rename(oldFqdn: string, newFqdn: string, opts: RenameOptions = {}): Promise<{ from: string; to: string; replaced: boolean }> {
    const from = await this.nodeDir(oldFqdn, 'oldFqdn', true);
    let replaced = false;
    if (opts.replaceEmpty && (await this.exists(newFqdn))) {
      const target = join(await this.root(), checkFqdn(newFqdn, 'newFqdn'));
      const dirs = await emptyDirsBottomUp(target);
      if (dirs) {
        // rmdir fails on anything written meanwhile, so data is never removed.
        for (const d of dirs) await rmdir(d);
        replaced = true;
      }
    }
    const to = await this.nodeDir(newFqdn, 'newFqdn', false);
    await rename(from, to);
    return { from, to, replaced };
  }

  /** Moves a deleted node's state to `.archive/<fqdn>-<timestamp>`; nothing is ever deleted. */
  async archive(fqdn: string): Promise<ArchivedDir> {
    const from = await this.nodeDir(fqdn, 'fqdn', true);
    const root = dirname(from);
    await mkdirBelow(root, [ARCHIVE_DIR], 0o700, undefined, undefined, 'stateDir');
    const at = this.now();
    for (let n = 1; ; n++) {
      const name = archiveName(fqdn, at, n);
      const to = join(root, ARCHIVE_DIR, name);
      if (await lstatOrNull(to)) continue;
      await rename(from, to);
      return { ...parseArchiveName(name)!, path: to };
    }
  }

  async listArchived(): Promise<ArchivedDir[]> {
    const dir = join(await this.root(), ARCHIVE_DIR);
    const names = await readdir(dir).catch(() => [] as string[]);
    return names
      .map(parseArchiveName)
      .filter((a): a is ArchiveName => a !== null)
      .map((a) => ({ ...a, path: join(dir, a.name) }))
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  /** Brings an archived directory back as `state/<fqdn>` (default: the FQDN it was archived as). */
  async restore(name: string, fqdn?: string): Promise<{ fqdn: string; path: string }> {
    const parsed = typeof name === 'string' && !name.includes('/') ? parseArchiveName(name) : null;
    if (!parsed) throw new StateDirError('STATE_INPUT', 'archiveName', `not an archive name: ${JSON.stringify(name)}`);
    const root = await this.root();
    const from = join(root, ARCHIVE_DIR, parsed.name);
    const st = await lstatOrNull(from);
    if (!st) throw new StateDirError('STATE_NOT_FOUND', 'archiveName', `no archive ${parsed.name}`);
    if (st.isSymbolicLink() || !st.isDirectory()) throw new StateDirError('STATE_UNSAFE', 'archiveName', `${from} is not a plain directory`);
    const target = fqdn ?? parsed.fqdn;
    const to = await this.nodeDir(target, 'fqdn', false);
    await rename(from, to);
    return { fqdn: target, path: to };
  }

  /** Disk usage of a node's state directory (symlinks not followed, hard links counted once). */
  async usage(fqdn: string): Promise<Usage> {
    return usageOf(await this.nodeDir(fqdn, 'fqdn', true));
  }
}
