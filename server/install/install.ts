/**
 * `netroot install`: the packages netroot uses, its config, data dir, systemd unit and the NFS
 * server's include of netroot's exports, on Debian/Ubuntu and RHEL-family hosts. Idempotent (an
 * existing config is never overwritten); --dry-run prints the plan; --root DIR installs into a
 * tree (packages are then only listed).
 */
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCommand, type Runner } from '../../exports/runner.js';
import { exampleConfig } from './example.js';
import { renderUnit } from './unit.js';

export type Family = 'debian' | 'rhel';
export type NfsChoice = 'kernel' | 'ganesha';

export interface InstallOptions {
  root: string;
  dryRun: boolean;
  nfs: NfsChoice;
  packages: boolean;
  node: string;
  bin: string;
  runner?: Runner;
}

export type Step =
  | { kind: 'packages'; manager: 'apt-get' | 'dnf'; names: string[] }
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'file'; path: string; mode: number; content: string; overwrite: boolean }
  | { kind: 'include'; path: string; line: string }
  | { kind: 'link'; path: string; target: string }
  | { kind: 'daemon-reload' };

export function osFamily(osRelease: string): Family {
  const ids = [...osRelease.matchAll(/^(ID|ID_LIKE)=("?)([^"\n]*)\2$/gm)].flatMap((m) => m[3]!.split(/\s+/));
  if (ids.some((i) => ['debian', 'ubuntu'].includes(i))) return 'debian';
  if (ids.some((i) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol'].includes(i))) return 'rhel';
  throw new Error(`install: unsupported distribution (ID/ID_LIKE: ${ids.join(' ') || 'none'}); supported: Debian/Ubuntu, RHEL family`);
}

export function packagesFor(family: Family, nfs: NfsChoice): string[] {
  if (family === 'debian') return ['ipxe', 'pxelinux', 'syslinux-common', 'rsync', 'openssh-client', ...(nfs === 'kernel' ? ['nfs-kernel-server'] : ['nfs-ganesha', 'nfs-ganesha-vfs'])];
  return ['ipxe-bootimgs-x86', 'syslinux-tftpboot', 'rsync', 'openssh-clients', ...(nfs === 'kernel' ? ['nfs-utils'] : ['nfs-ganesha', 'nfs-ganesha-vfs'])];
}

const CONFIG = '/etc/netroot/netroot.json';
const DATA = '/var/lib/netroot';
const UNIT = '/etc/systemd/system/netroot.service';
/** The CLI on every admin's PATH (Debian and RHEL both have /usr/local/bin there). */
const CLI_LINK = '/usr/local/bin/netroot';

export function planInstall(o: InstallOptions, family: Family): Step[] {
  const writePaths = o.nfs === 'kernel' ? ['/etc/exports.d', '/var/lib/nfs'] : ['/etc/ganesha', '/run/ganesha'];
  const steps: Step[] = [
    { kind: 'packages', manager: family === 'debian' ? 'apt-get' : 'dnf', names: packagesFor(family, o.nfs) },
    { kind: 'dir', path: '/etc/netroot', mode: 0o755 },
    { kind: 'file', path: CONFIG, mode: 0o640, content: exampleConfig({ dataDir: DATA, nfsBackend: o.nfs }), overwrite: false },
    { kind: 'dir', path: DATA, mode: 0o750 },
    { kind: 'file', path: UNIT, mode: 0o644, content: renderUnit({ node: o.node, bin: o.bin, configPath: CONFIG, dataDir: DATA, writePaths }), overwrite: true },
    { kind: 'link', path: CLI_LINK, target: o.bin },
  ];
  if (o.nfs === 'kernel') steps.push({ kind: 'dir', path: '/etc/exports.d', mode: 0o755 });
  else {
    steps.push({ kind: 'file', path: '/etc/ganesha/netroot.conf', mode: 0o644, content: '# Managed by netroot: its EXPORT blocks are written here.\n', overwrite: false });
    steps.push({ kind: 'include', path: '/etc/ganesha/ganesha.conf', line: '%include "/etc/ganesha/netroot.conf"' });
  }
  steps.push({ kind: 'daemon-reload' });
  return steps;
}

async function missingPackages(manager: 'apt-get' | 'dnf', names: string[], run: Runner): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) {
    const argv = manager === 'apt-get' ? ['dpkg-query', '-W', '-f=${Status}', n] : ['rpm', '-q', n];
    const ok = await run(argv, { timeoutMs: 30_000 }).then(
      (r) => (manager === 'apt-get' ? r.stdout.includes('install ok installed') : true),
      () => false,
    );
    if (!ok) out.push(n);
  }
  return out;
}

/** Runs (or with dryRun only describes) the plan; returns one line per step. */
export async function install(o: InstallOptions): Promise<string[]> {
  const run = o.runner ?? runCommand;
  const at = (p: string) => join(o.root, p);
  const osRelease = readFileSync(existsSync(at('/etc/os-release')) ? at('/etc/os-release') : '/etc/os-release', 'utf8');
  const family = osFamily(osRelease);
  const lines: string[] = [];
  const live = o.root === '/';
  const act = (what: string, f: () => void) => {
    lines.push(`${o.dryRun ? 'would ' : ''}${what}`);
    if (!o.dryRun) f();
  };
  for (const s of planInstall(o, family)) {
    if (s.kind === 'packages') {
      if (!o.packages) lines.push(`skip packages (--no-packages): ${s.names.join(' ')}`);
      else if (!live) lines.push(`skip packages (--root ${o.root}): ${s.manager} install ${s.names.join(' ')}`);
      else {
        const missing = await missingPackages(s.manager, s.names, run);
        if (missing.length === 0) lines.push(`packages present: ${s.names.join(' ')}`);
        else {
          lines.push(`${o.dryRun ? 'would install' : 'install'} packages: ${missing.join(' ')}`);
          if (!o.dryRun) {
            const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
            await run([s.manager, 'install', '-y', ...(s.manager === 'apt-get' ? ['--no-install-recommends'] : []), ...missing], { timeoutMs: 1_800_000, env });
          }
        }
      }
    } else if (s.kind === 'dir') {
      if (existsSync(at(s.path))) lines.push(`exists ${s.path}`);
      else act(`create ${s.path}/`, () => mkdirSync(at(s.path), { recursive: true, mode: s.mode }));
    } else if (s.kind === 'file') {
      const cur = existsSync(at(s.path)) ? readFileSync(at(s.path), 'utf8') : null;
      if (cur === s.content) lines.push(`unchanged ${s.path}`);
      else if (cur !== null && !s.overwrite) lines.push(`kept ${s.path} (exists; not overwritten)`);
      else
        act(`${cur === null ? 'create' : 'update'} ${s.path}`, () => {
          mkdirSync(dirname(at(s.path)), { recursive: true });
          const tmp = `${at(s.path)}.netroot-tmp`;
          writeFileSync(tmp, s.content, { mode: s.mode });
          chmodSync(tmp, s.mode);
          // rename is atomic: a half-written unit or config is never seen
          renameSync(tmp, at(s.path));
        });
    } else if (s.kind === 'include') {
      const cur = existsSync(at(s.path)) ? readFileSync(at(s.path), 'utf8') : '';
      if (cur.split('\n').some((l) => l.trim() === s.line)) lines.push(`include present in ${s.path}`);
      else
        act(`add ${s.line} to ${s.path}`, () => {
          mkdirSync(dirname(at(s.path)), { recursive: true });
          appendFileSync(at(s.path), `${cur && !cur.endsWith('\n') ? '\n' : ''}# Added by netroot install\n${s.line}\n`);
        });
    } else if (s.kind === 'link') {
      const st = (() => {
        try {
          return lstatSync(at(s.path));
        } catch {
          return null;
        }
      })();
      if (st?.isSymbolicLink() && readlinkSync(at(s.path)) === s.target) lines.push(`link present ${s.path} -> ${s.target}`);
      else if (st && !st.isSymbolicLink()) lines.push(`kept ${s.path} (a file that is not netroot's link; netroot is at ${s.target})`);
      else
        act(`link ${s.path} -> ${s.target}`, () => {
          mkdirSync(dirname(at(s.path)), { recursive: true });
          const tmp = `${at(s.path)}.netroot-tmp`;
          try {
            symlinkSync(s.target, tmp);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          }
          renameSync(tmp, at(s.path));
        });
    } else if (s.kind === 'daemon-reload') {
      if (!live) lines.push('skip systemctl daemon-reload (--root)');
      else act('systemctl daemon-reload', () => void run(['systemctl', 'daemon-reload']).catch(() => undefined));
    }
  }
  return lines;
}
