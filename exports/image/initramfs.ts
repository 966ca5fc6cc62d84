/**
 * The initramfs: dracut with the seed's modules (`nfs network base`, plus network-legacy on
 * dracut >= 059 without NetworkManager, prepare.ts dracutModules), the image's drivers, no host-only; built on the golden host
 * over SSH and fetched by SFTP (the seed's way), or in the new root through chroot. The listing
 * (lsinitrd, from the same dracut) is checked: nfs module present, modules of the right kernel.
 */
import { rename, chmod, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Runner } from '../runner.js';
import type { GoldenSession } from '../golden/session.js';
import { NM_INITRD_GENERATOR_TEST, parseDracutVersion } from '../golden/preflight.js';
import { dracutDrivers, dracutModules } from '../golden/prepare.js';
import { shellJoin } from '../golden/shell.js';
import { resolveInRoot } from './stateless/rootfs.js';

const LISTING_MARK = '@@netroot-lsinitrd@@';
const NM_MARK = '@@netroot-nm-initrd-generator@@';
/** Where NetworkManager packages nm-initrd-generator (EL: libexec; some distributions: lib). */
const NM_INITRD_GENERATORS = ['/usr/libexec/nm-initrd-generator', '/usr/lib/nm-initrd-generator'];

export interface DracutArgs {
  dracut?: string;
  dracutVersion: number | null;
  /** nm-initrd-generator is there: dracut's 40network picks network-manager (prepare.ts). */
  networkManager?: boolean;
  drivers: readonly string[];
  out: string;
  kver: string;
}

export function dracutArgv(a: DracutArgs): string[] {
  const mods = dracutModules(a.dracutVersion, a.networkManager);
  const base = mods.filter((m) => m !== 'network-legacy');
  return [
    a.dracut ?? 'dracut', '--no-hostonly', '-a', base.join(' '),
    ...(mods.includes('network-legacy') ? ['--add', 'network-legacy'] : []),
    '--add-drivers', dracutDrivers(a.drivers).join(' '),
    '-f', a.out, a.kver,
  ];
}

export interface Listing {
  dracutModules: string[];
  files: string[];
}

/** lsinitrd output: a header with "dracut modules:" then the file list (ls -l lines). */
export function parseLsinitrd(text: string): Listing {
  const lines = text.split('\n');
  const dracutModules: string[] = [];
  const files: string[] = [];
  let inMods = false;
  for (const l of lines) {
    if (/^dracut modules:/.test(l)) { inMods = true; continue; }
    if (/^={10,}/.test(l)) { inMods = false; continue; }
    if (inMods && /^[\w.-]+$/.test(l.trim())) { dracutModules.push(l.trim()); continue; }
    const m = /^[-dlcbps][rwxsStT-]{9}\S*\s+.*\s(\S+)$/.exec(l);
    if (m) files.push(m[1]!.replace(/^\.\//, ''));
  }
  return { dracutModules, files };
}

/** The dracut modules that bring up the initramfs's network, by dracut version (prepare.ts). */
export const NETWORK_HANDLERS = ['network-manager', 'network-legacy', 'systemd-networkd', 'network-wicked', 'connman'];

/** The initramfs's network implementation as its listing says ('network' alone: dracut 033's 40network). */
export function networkHandler(l: Listing): string | null {
  return NETWORK_HANDLERS.find((m) => l.dracutModules.includes(m)) ?? (l.dracutModules.includes('network') ? 'network' : null);
}

/** Problems that make an initramfs unfit for an NFS root of kernel kver ([] = fit). */
export function checkListing(l: Listing, kver: string): string[] {
  const p: string[] = [];
  if (!l.dracutModules.includes('nfs')) p.push('initramfs: dracut module "nfs" missing');
  if (networkHandler(l) === null) p.push('initramfs: no network module (dracut "network"): the NFS root cannot be reached');
  if (!l.files.some((f) => f.includes(`lib/modules/${kver}/`))) p.push(`initramfs: no modules for kernel ${kver} (built for another kernel?)`);
  return p;
}

export interface BuildArgs {
  /** The new version's root (chroot mode builds inside it). */
  root: string;
  kver: string;
  drivers: readonly string[];
  /** Local destination (world-readable when done, docs/lab.md, trap 7). */
  out: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface InitramfsBuilder {
  /** Builds the image into args.out and returns lsinitrd's listing of it. */
  build(args: BuildArgs): Promise<string>;
}

export interface ToolPaths {
  dracut?: string;
  lsinitrd?: string;
}

/**
 * The command run on the golden host: dracut into tmp (its messages on stderr), a mark, then
 * lsinitrd's listing on stdout. tmp stays for the SFTP fetch only when all of it went through;
 * otherwise the shell removes it as it exits. That includes netroot gone mid-build (killed, the
 * job cancelled, the connection lost): dracut runs on, but the first write after it to the
 * closed channel raises SIGPIPE, and the trap removes the file that no one would ever fetch.
 */
export function goldenBuildScript(dracut: readonly string[], lsinitrd: string, tmp: string): string {
  // The removal sits inside a single-quoted trap: the name must need no quoting of its own.
  if (!/^[A-Za-z0-9_./-]+$/.test(tmp)) throw new RangeError(`tmp: ${JSON.stringify(tmp)} needs quoting`);
  const rm = `rm -f ${tmp}`;
  return [
    `trap '[ "$netroot_ok" = 1 ] || ${rm}' EXIT`,
    "trap 'exit 1' HUP PIPE TERM",
    `${shellJoin(dracut)} >&2 && echo ${LISTING_MARK} && ${shellJoin([lsinitrd, tmp])} && netroot_ok=1`,
  ].join('; ');
}

/** The seed's way: dracut on the golden host, fetched by SFTP. */
export function goldenHostBuilder(session: GoldenSession, tools: ToolPaths = {}): InitramfsBuilder {
  const dracut = tools.dracut ?? 'dracut';
  return {
    async build(a) {
      const probe = await session.execShell(`${shellJoin([dracut, '--version'])} 2>/dev/null | head -n 1; ${NM_INITRD_GENERATOR_TEST} && echo ${NM_MARK}; exit 0`,
        { signal: a.signal });
      const ver = parseDracutVersion(probe.stdout);
      const networkManager = probe.stdout.includes(NM_MARK);
      const tmp = `/tmp/netroot-initramfs-${randomBytes(6).toString('hex')}.img`;
      try {
        const argv = dracutArgv({ dracut, dracutVersion: ver, networkManager, drivers: a.drivers, out: tmp, kver: a.kver });
        a.log(`golden host ${session.host.name}: ${argv.join(' ')}`);
        // One round trip for build + listing (sessions are slow to start on a busy host); dracut's
        // own output goes to stderr so stdout after the marker is lsinitrd's alone.
        const r = await session.execShell(goldenBuildScript(argv, tools.lsinitrd ?? 'lsinitrd', tmp), { timeoutMs: 15 * 60_000, signal: a.signal });
        for (const l of r.stderr.split('\n')) if (l.trim()) a.log(l);
        const at = r.stdout.indexOf(`${LISTING_MARK}\n`);
        const listing = at >= 0 ? r.stdout.slice(at + LISTING_MARK.length + 1) : '';
        await session.fetchFile(tmp, a.out, 0o644);
        return listing;
      } finally {
        await session.exec(['rm', '-f', tmp]).catch(() => undefined);
      }
    },
  };
}

/** dracut inside the new root: /proc, /sys, /dev bound for it, always unmounted afterwards. */
export function chrootBuilder(runner: Runner, tools: ToolPaths = {}): InitramfsBuilder {
  const dracut = tools.dracut ?? 'dracut';
  return {
    async build(a) {
      const mounted: string[] = [];
      const rel = `/tmp/netroot-initramfs-${randomBytes(6).toString('hex')}.img`;
      try {
        for (const d of ['/proc', '/sys', '/dev']) {
          await runner(['mount', '--bind', d, join(a.root, d)], { timeoutMs: 30_000 });
          mounted.unshift(join(a.root, d));
        }
        const ver = parseDracutVersion((await runner(['chroot', a.root, dracut, '--version'], { okCodes: [0, 1, 2], signal: a.signal })).stdout);
        let networkManager = false;
        for (const g of NM_INITRD_GENERATORS) {
          const st = await stat(await resolveInRoot(a.root, g, true)).catch(() => null);
          if (st?.isFile() && (st.mode & 0o111) !== 0) networkManager = true;
        }
        const argv = ['chroot', a.root, ...dracutArgv({ dracut, dracutVersion: ver, networkManager, drivers: a.drivers, out: rel, kver: a.kver })];
        a.log(argv.join(' '));
        await runner(argv, { timeoutMs: 15 * 60_000, signal: a.signal, onLine: (l) => a.log(l) });
        const listing = (await runner(['chroot', a.root, tools.lsinitrd ?? 'lsinitrd', rel], { timeoutMs: 120_000, signal: a.signal })).stdout;
        await rename(join(a.root, rel), a.out);
        await chmod(a.out, 0o644);
        return listing;
      } finally {
        for (const m of mounted) {
          await runner(['umount', m], { timeoutMs: 30_000 }).catch(() => runner(['umount', '-l', m]).catch(() => undefined));
        }
        await rm(join(a.root, rel), { force: true });
      }
    },
  };
}
