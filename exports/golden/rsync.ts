/**
 * rsync over the system OpenSSH client (argv built here, run through exports/runner.ts), and
 * the parser for `--info=progress2` lines.
 */
import { createHash } from 'node:crypto';
import type { GoldenHost, SshIdentity } from './types.js';

/** Seed: `--exclude=/{proc,sys,dev,media,mnt,tmp,home,run,srv}/`. Written as `/dir/*` so the
 * directories themselves arrive (empty, with their modes): a read-only root needs mount points. */
export const SEED_EXCLUDES = ['/proc', '/sys', '/dev', '/media', '/mnt', '/tmp', '/home', '/run', '/srv'];

export interface RsyncOptions {
  host: GoldenHost;
  identity: SshIdentity;
  /** Destination directory (the new version's root). */
  dest: string;
  /** The previous version's root: unchanged files become hard links into it. */
  linkDest?: string | null;
  /** Image excludes beyond the seed's (rsync patterns). */
  excludes?: readonly string[];
  /** ssh binary (default "ssh"). */
  ssh?: string;
  rsync?: string;
  /** Extra rsync arguments placed before the source (e.g. --bwlimit in tests). */
  extra?: readonly string[];
  /** Print every item of the source, changed or not, as a listing line (see SourceListing). */
  listing?: boolean;
  /** -n: compare only, write nothing. */
  dryRun?: boolean;
}

/** Listing lines start with this; the itemize flags come first (fixed width 11), the name last. */
export const LISTING_PREFIX = 'NRLS|';
const LISTING_FORMAT = `${LISTING_PREFIX}%i|%B|%U|%G|%l|%M|%n%L`;

/**
 * The golden tree's fingerprint, from rsync's own listing of the source (`listing: true`): name,
 * type, permissions, numeric owner, size, mtime and symlink target of every item, in name order.
 * Two runs over an unchanged tree give the same digest whether they copied (into an empty
 * version) or only compared (-n against the last version). What rsync's quick check cannot see
 * (content rewritten with the same size and mtime, xattr/ACL-only or hard-link-only changes) this
 * cannot see either: a forced pull builds a version regardless.
 */
export class SourceListing {
  private readonly items: string[] = [];

  /** Takes a line of rsync output; false when it is not a listing line. */
  add(line: string): boolean {
    if (!line.startsWith(LISTING_PREFIX)) return false;
    const flags = line.slice(LISTING_PREFIX.length, LISTING_PREFIX.length + 11);
    // Deletions are the receiver's extra files (what netroot added), not the source's.
    if (flags.startsWith('*deleting')) return true;
    // Hard-link notes (" => other") depend on which name of a set rsync met first: not the tree's.
    this.items.push(line.slice(LISTING_PREFIX.length + 12).replace(/ => .*$/, ''));
    return true;
  }

  get count(): number {
    return this.items.length;
  }

  digest(): string {
    const h = createHash('sha256');
    for (const i of [...this.items].sort()) h.update(i).update('\n');
    return `sha256:${h.digest('hex')}`;
  }
}

/** The `-e` command: netroot's key, known_hosts and strict checking; never a password prompt. */
export function sshCommand(host: GoldenHost, id: SshIdentity, ssh = 'ssh'): string[] {
  return [
    ssh, '-i', id.privateKeyPath, '-p', String(host.port),
    '-o', `UserKnownHostsFile=${id.knownHostsPath}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'UpdateHostKeys=no',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'ConnectTimeout=20',
    // An SSH drop ends rsync within a minute instead of hanging the pull.
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=4',
  ];
}

function checkArg(v: string, field: string): void {
  if (/[\s'"\\]/.test(v) || v === '') throw new Error(`${field}: ${JSON.stringify(v)} must be non-empty without spaces, quotes or backslashes`);
}

export function rsyncArgv(o: RsyncOptions): string[] {
  const { host } = o;
  // rsync splits -e on spaces (honouring quotes): keep those args clean.
  checkArg(o.identity.privateKeyPath, 'identity.privateKeyPath');
  checkArg(o.identity.knownHostsPath, 'identity.knownHostsPath');
  if (!/^[A-Za-z0-9._-]+$/.test(host.user)) throw new Error(`host.user: ${JSON.stringify(host.user)} is not a user name`);
  if (!/^[A-Za-z0-9.:-]+$/.test(host.address)) throw new Error(`host.address: ${JSON.stringify(host.address)} is not a host`);
  if (!host.sourcePath.startsWith('/')) throw new Error(`host.sourcePath: ${JSON.stringify(host.sourcePath)} must be absolute`);
  for (const e of o.excludes ?? []) if (/[\n\r]/.test(e) || e === '') throw new Error(`excludes: ${JSON.stringify(e)} is not a pattern`);
  const addr = host.address.includes(':') ? `[${host.address}]` : host.address;
  const src = host.sourcePath.endsWith('/') ? host.sourcePath : `${host.sourcePath}/`;
  return [
    o.rsync ?? 'rsync',
    '-aHAX', '--numeric-ids', '--delete', o.listing ? '--info=progress2,name2' : '--info=progress2', '--no-inc-recursive',
    ...(o.listing ? [`--out-format=${LISTING_FORMAT}`] : []),
    ...(o.dryRun ? ['-n'] : []),
    ...(o.linkDest ? [`--link-dest=${o.linkDest}`] : []),
    ...SEED_EXCLUDES.map((d) => `--exclude=${d}/*`),
    ...(o.excludes ?? []).map((e) => `--exclude=${e}`),
    ...(o.extra ?? []),
    '-e', sshCommand(host, o.identity, o.ssh).join(' '),
    `${host.user}@${addr}:${src}`,
    o.dest.endsWith('/') ? o.dest : `${o.dest}/`,
  ];
}

export interface Progress {
  percent: number;
  bytes: number;
  /** Bytes per second. */
  rate: number;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * `      1,234,567  45%   12.34MB/s    0:00:01 (xfr#12, to-chk=34/100)`: bytes so far (commas,
 * or a unit suffix with -h), percent of the total, rate (rsync's units are powers of 1024).
 * Anything else (file names, warnings) is null.
 */
export function parseProgress2(line: string): Progress | null {
  const m = /^\s*([\d,.]+)([kKMGT]?)\s+(\d{1,3})%\s+([\d.,]+)([kKMGT]?)B\/s\s+\d+:\d{2}:\d{2}/.exec(line);
  if (!m) return null;
  const num = (s: string, u: string) => Number(s.replace(/,/g, '')) * (UNITS[u] ?? 1);
  const bytes = Math.round(num(m[1]!, m[2]!));
  const rate = Math.round(num(m[4]!, m[5]!));
  const percent = Number(m[3]);
  if (!Number.isFinite(bytes) || !Number.isFinite(rate) || percent > 100) return null;
  return { percent, bytes, rate };
}
