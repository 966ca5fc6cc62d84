/**
 * `prepare`: the seed's "general setup" on the golden host, shown first (plan), then applied.
 * dracut gets a conf.d file so every kernel update there builds a generic, network-root-capable
 * initramfs; systemd-readahead-collect is disabled (it writes to the root at boot).
 */
import type { GoldenSession } from './session.js';
import { NM_INITRD_GENERATOR_TEST, parseDracutVersion } from './preflight.js';
import { shellJoin, shellQuote } from './shell.js';

export const DRACUT_CONF_PATH = '/etc/dracut.conf.d/90-netroot.conf';

export interface DracutConfOptions {
  /** Network drivers (and any other modules) to include. */
  drivers: readonly string[];
  dracutVersion: number | null;
  /** The host has NetworkManager's nm-initrd-generator (dracut then picks network-manager). */
  networkManager?: boolean;
}

function checkWords(list: readonly string[], field: string): void {
  for (const w of list) if (!/^[A-Za-z0-9_.-]+$/.test(w)) throw new Error(`${field}: ${JSON.stringify(w)} is not a module name`);
}

/**
 * The dracut modules netroot asks for. `network` (40network) chooses the initramfs's network
 * implementation itself, in its module-setup.sh depends(), by version:
 * - 033 (EL7): 40network is the only network module (dhclient and its own dhclient-script.sh);
 * - 049 (EL8) and 057 (EL9): network-manager when /usr/libexec/nm-initrd-generator is executable
 *   (NetworkManager >= 1.20, installed by default), else network-legacy (dhclient); both handle
 *   `ip=dhcp rd.neednet=1 root=nfs:`/`nfs4:` (nm-initrd-generator's cmdline reader; 95nfs);
 * - 059 and later: systemd-networkd when there is no nm-initrd-generator but systemd-networkd is
 *   there, which fails in a minimal root (docs/lab.md, trap 2): there, and only there, netroot
 *   names network-legacy. Naming it where NetworkManager is found would override dracut's own
 *   choice (and RHEL 10 has no dhclient for network-legacy).
 */
export function dracutModules(dracutVersion: number | null, networkManager = false): string[] {
  const legacy = dracutVersion !== null && dracutVersion >= 59 && !networkManager;
  return ['nfs', 'network', 'base', ...(legacy ? ['network-legacy'] : [])];
}

/** Seed "Modules": nfs and nfsv4 are needed in the initramfs whatever the hardware. */
export function dracutDrivers(drivers: readonly string[]): string[] {
  checkWords(drivers, 'drivers');
  return [...new Set(['nfs', 'nfsv4', ...drivers])];
}

export function renderDracutConf(o: DracutConfOptions): string {
  return [
    '# Written by netroot (seed "general setup"): generic initramfs images that can boot an NFS root.',
    'hostonly="no"',
    `add_dracutmodules+=" ${dracutModules(o.dracutVersion, o.networkManager).join(' ')} "`,
    `add_drivers+=" ${dracutDrivers(o.drivers).join(' ')} "`,
    '',
  ].join('\n');
}

export interface PreparePlan {
  host: string;
  confPath: string;
  /** The exact file that will be written. */
  content: string;
  /** What is there now (null = no file). */
  current: string | null;
  disableReadahead: boolean;
  /** Human-readable list of changes; empty = nothing to do. */
  changes: string[];
}

export async function planPrepare(session: GoldenSession, drivers: readonly string[], confPath = DRACUT_CONF_PATH): Promise<PreparePlan> {
  const q = shellQuote(confPath);
  const r = await session.execShell([
    'echo @@dracut; dracut --version 2>/dev/null | head -n 1',
    `echo @@nm; ${NM_INITRD_GENERATOR_TEST} && echo yes`,
    'echo @@readahead; systemctl is-enabled systemd-readahead-collect.service 2>/dev/null',
    `echo @@conf; [ -f ${q} ] && echo present && cat ${q}`,
    'exit 0',
  ].join('\n'));
  const [, dr = '', nm = '', ra = '', conf = ''] = r.stdout.split(/^@@\w+\n/m);
  const content = renderDracutConf({ drivers, dracutVersion: parseDracutVersion(dr), networkManager: nm.trim() === 'yes' });
  const current = conf.startsWith('present\n') ? conf.slice('present\n'.length) : null;
  const disableReadahead = ra.trim() === 'enabled';
  const changes: string[] = [];
  if (current !== content) changes.push(`${current === null ? 'create' : 'replace'} ${confPath}`);
  if (disableReadahead) changes.push('systemctl disable systemd-readahead-collect.service');
  return { host: session.host.name, confPath, content, current, disableReadahead, changes };
}

export async function applyPrepare(session: GoldenSession, plan: PreparePlan): Promise<void> {
  if (plan.current !== plan.content) {
    const dir = plan.confPath.slice(0, plan.confPath.lastIndexOf('/')) || '/';
    await session.exec(['mkdir', '-p', dir]);
    await session.writeFile(`${plan.confPath}.netroot-tmp`, plan.content);
    await session.exec(['mv', '-f', `${plan.confPath}.netroot-tmp`, plan.confPath]);
  }
  if (plan.disableReadahead) await session.execShell(shellJoin(['systemctl', 'disable', 'systemd-readahead-collect.service']));
}
