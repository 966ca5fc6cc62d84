/**
 * Preflight (`netroot golden check <host>`): what the seed asks of a golden host, read over SSH in
 * one round trip: kernels, the seed's packages, autofs (the seed: "infinite mounting loop"; a pull
 * refuses to start while it runs), loaded drivers (the seed's `xs`), free space, dracut version and
 * the initramfs network it will pick, SELinux, systemd-readahead-collect.
 */
import type { GoldenSession } from './session.js';
import { shellQuote } from './shell.js';

/** One shell test, true when dracut would pick NetworkManager for the initramfs's network (prepare.ts dracutModules). */
export const NM_INITRD_GENERATOR_TEST = '[ -x /usr/libexec/nm-initrd-generator ] || [ -x /usr/lib/nm-initrd-generator ]';

export interface PackageStatus {
  /** The seed's name for it (nfs-utils is nfs-common on Debian). */
  name: string;
  /** The distro's package name that was checked. */
  checked: string;
  present: boolean;
  version?: string;
  note?: string;
}

export interface PreflightReport {
  host: string;
  runningKernel: string;
  /** Versions under /lib/modules and /boot/vmlinuz-*; bootable = in both. */
  kernels: { modules: string[]; images: string[]; bootable: string[] };
  packageManager: 'rpm' | 'dpkg' | null;
  packages: PackageStatus[];
  autofsRunning: boolean;
  /** Every loaded module (the seed's `lsmod` list). */
  loadedModules: string[];
  /** Drivers bound to network interfaces: the ones an image needs in its initramfs. */
  networkDrivers: { iface: string; driver: string }[];
  freeBytes: number | null;
  dracutVersion: number | null;
  /** What dracut's network module will pick for the initramfs (prepare.ts dracutModules). */
  initramfsNetwork: 'network' | 'network-manager' | 'network-legacy' | null;
  /** SELinux: the golden root's /etc/selinux/config SELINUX= and the running host's mode. */
  selinux: { config: string | null; running: string | null };
  readaheadCollect: boolean;
  /** Problems that would make a pull or a boot fail, in words for the admin. */
  problems: string[];
  /** What works but differs from the golden host on the nodes, in words for the admin. */
  warnings: string[];
}

const SEED_PACKAGES: Record<'rpm' | 'dpkg', [string, string][]> = {
  rpm: [['dracut-network', 'dracut-network'], ['dracut-config-generic', 'dracut-config-generic'], ['nfs-utils', 'nfs-utils'], ['rsync', 'rsync']],
  dpkg: [['dracut-network', 'dracut-network'], ['dracut-config-generic', 'dracut-config-generic'], ['nfs-utils', 'nfs-common'], ['rsync', 'rsync']],
};

export function preflightScript(sourcePath: string): string {
  const rpmPk = SEED_PACKAGES.rpm.map(([, p]) => p).join(' ');
  const debPk = SEED_PACKAGES.dpkg.map(([, p]) => p).join(' ');
  return [
    'echo @@uname; uname -r',
    'echo @@modules; ls -1 /lib/modules 2>/dev/null',
    'echo @@boot; ls -1 /boot 2>/dev/null',
    `echo @@pkg; if command -v rpm >/dev/null 2>&1 && rpm -q rpm >/dev/null 2>&1; then echo rpm; rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE} install ok installed\\n' ${rpmPk} 2>/dev/null;`
      + ` elif command -v dpkg-query >/dev/null 2>&1; then echo dpkg; dpkg-query -W -f='\${Package} \${Version} \${Status}\\n' ${debPk} 2>/dev/null; fi`,
    'echo @@autofs; systemctl is-active autofs 2>/dev/null; pidof automount >/dev/null 2>&1 && echo active',
    'echo @@lsmod; cut -d" " -f1 /proc/modules 2>/dev/null',
    'echo @@netdrv; for d in /sys/class/net/*/device/driver; do [ -e "$d" ] || continue; i=${d#/sys/class/net/}; echo "${i%%/*} $(basename "$(readlink -f "$d")")"; done',
    `echo @@df; df -Pk ${shellQuote(sourcePath)} 2>/dev/null | tail -n 1`,
    'echo @@dracut; dracut --version 2>/dev/null | head -n 1',
    `echo @@nm; ${NM_INITRD_GENERATOR_TEST} && echo yes`,
    `echo @@selinux; cat ${shellQuote(`${sourcePath.replace(/\/$/, '')}/etc/selinux/config`)} 2>/dev/null`,
    'echo @@getenforce; getenforce 2>/dev/null',
    'echo @@readahead; systemctl list-unit-files systemd-readahead-collect.service 2>/dev/null | grep -c "^systemd-readahead-collect"',
    'exit 0',
  ].join('\n');
}

function sections(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur = '';
  for (const raw of out.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('@@')) { cur = line.slice(2); m.set(cur, []); continue; }
    if (cur && line) m.get(cur)!.push(line);
  }
  return m;
}

/** dracut's version number: "dracut 059", "dracut-057-53.git20240104.el9", "dracut 102". */
export function parseDracutVersion(s: string | undefined): number | null {
  const m = /dracut[\s-]+0*(\d+)/.exec(s ?? '');
  return m ? Number(m[1]) : null;
}

export function parsePreflight(host: string, out: string): PreflightReport {
  const s = sections(out);
  const get = (k: string) => s.get(k) ?? [];
  const modules = get('modules');
  const images = get('boot').filter((f) => f.startsWith('vmlinuz-') && !f.includes('rescue')).map((f) => f.slice('vmlinuz-'.length));
  const pkgLines = get('pkg');
  const pm = pkgLines[0] === 'rpm' || pkgLines[0] === 'dpkg' ? pkgLines[0] : null;
  const packages: PackageStatus[] = pm === null ? [] : SEED_PACKAGES[pm].map(([name, checked]) => {
    const line = pkgLines.slice(1).find((l) => l.split(' ')[0] === checked);
    const present = !!line && line.endsWith('install ok installed');
    const st: PackageStatus = { name, checked, present };
    if (present) st.version = line!.split(' ')[1]!;
    if (!present && pm === 'dpkg' && name === 'dracut-config-generic') {
      st.note = 'not packaged for Debian; netroot\'s dracut.conf.d sets hostonly="no", which is what it does';
    }
    return st;
  });
  const df = get('df')[0]?.split(/\s+/);
  const freeKb = df && df.length >= 4 ? Number(df[3]) : NaN;
  const report: PreflightReport = {
    host,
    runningKernel: get('uname')[0] ?? '',
    kernels: { modules, images, bootable: modules.filter((k) => images.includes(k)) },
    packageManager: pm,
    packages,
    autofsRunning: get('autofs').includes('active'),
    loadedModules: get('lsmod'),
    networkDrivers: get('netdrv').map((l) => { const [iface, driver] = l.split(' '); return { iface: iface!, driver: driver ?? '' }; }),
    freeBytes: Number.isFinite(freeKb) ? freeKb * 1024 : null,
    dracutVersion: parseDracutVersion(get('dracut')[0]),
    initramfsNetwork: null,
    selinux: {
      config: get('selinux').map((l) => /^\s*SELINUX\s*=\s*"?(\w+)"?/.exec(l)?.[1]?.toLowerCase()).filter(Boolean).at(-1) ?? null,
      running: get('getenforce')[0]?.trim().toLowerCase() ?? null,
    },
    readaheadCollect: Number(get('readahead')[0] ?? '0') > 0,
    problems: [],
    warnings: [],
  };
  const v = report.dracutVersion;
  const nm = get('nm').includes('yes');
  report.initramfsNetwork = v === null ? null : v < 49 ? 'network' : nm ? 'network-manager' : 'network-legacy';
  const p = report.problems;
  if (report.kernels.bootable.length === 0) p.push('no kernel with both /lib/modules/<version> and /boot/vmlinuz-<version>');
  if (pm === null) p.push('neither rpm nor dpkg found: cannot check packages');
  for (const pk of packages) if (!pk.present && !pk.note) p.push(`package ${pk.checked} is missing`);
  if (report.autofsRunning) p.push('autofs is running: copying the root would follow its mounts (seed: infinite mount loop); stop it first');
  if (report.dracutVersion === null) p.push('dracut not found');
  if (report.selinux.config === 'enforcing' || report.selinux.running === 'enforcing') {
    report.warnings.push('SELinux is enforcing here; images boot permissive by default: netroot\'s NFS exports carry no SELinux labels, so a node\'s root and state are nfs_t and enforcing would deny confined services their files (image setting selinux: permissive, disabled, or enforcing with labeled NFS)');
  }
  return report;
}

export async function preflight(session: GoldenSession): Promise<PreflightReport> {
  const r = await session.execShell(preflightScript(session.host.sourcePath), { timeoutMs: 60_000 });
  return parsePreflight(session.host.name, r.stdout);
}
