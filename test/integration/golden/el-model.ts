/**
 * A model of how an EL node comes to mount its state directory, written from the upstream
 * sources (cited per function), run against a pulled version's tree, netroot's DHCP answer and
 * the kernel command line netroot gives the node. No RHEL package can be fetched here, so the
 * boot itself cannot run: each step that decides the name is modelled from its source, and the
 * one step that is netroot's own (netroot-hostname.service) is run for real, in a UTS namespace.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../exports/runner.js';

/** The initramfs's network implementation, from the version's manifest (initramfs.dracutModules). */
export function networkImpl(dracutModules: readonly string[]): 'network-manager' | 'network-legacy' | 'network' {
  if (dracutModules.includes('network-manager')) return 'network-manager';
  if (dracutModules.includes('network-legacy')) return 'network-legacy';
  if (dracutModules.includes('network')) return 'network';
  throw new Error(`no network module in ${dracutModules.join(' ')}`);
}

/** The client_hostname field of `ip=<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:...` (dracut.cmdline(7)). */
export function ipHostname(cmdline: string): string | null {
  for (const w of cmdline.split(/\s+/)) {
    if (!w.startsWith('ip=')) continue;
    const f = w.slice(3).split(':');
    if (f.length >= 7 && f[4]) return f[4];
  }
  return null;
}

export interface DhcpNames {
  /** Option 12. */
  hostName: string | null;
  /** Option 15. */
  domain: string | null;
}

/**
 * The kernel host name when the initramfs hands over to the real root.
 * - dracut's systemd sets "localhost" while none is configured (initrd has no /etc/hostname).
 * - network-legacy and EL7's 40network, dhclient-script.sh setup_interface: hostname=$new_host_name,
 *   then /tmp/net.$netif.override (ip= fields, ifup.sh) wins, then
 *   `echo ${hostname%.$domain}${domain:+.$domain} > /proc/sys/kernel/hostname`.
 * - network-manager, NetworkManager nm-policy.c update_system_hostname: DHCPv4 `host_name` as is
 *   (sethostname when hostnamed is absent, as in the initramfs); then dracut's nm-run.sh copies
 *   /run/NetworkManager/initrd/hostname (nm-initrd-generator writes ip='s client_hostname there) over it.
 */
export function initramfsHostname(impl: ReturnType<typeof networkImpl>, dhcp: DhcpNames, cmdline: string): string {
  const fromIp = ipHostname(cmdline);
  if (impl === 'network-manager') return fromIp ?? dhcp.hostName ?? 'localhost';
  const h = fromIp ?? dhcp.hostName;
  if (!h) return 'localhost';
  const d = dhcp.domain ?? '';
  if (!d) return h;
  return `${h.endsWith(`.${d}`) ? h.slice(0, -d.length - 1) : h}.${d}`;
}

/** A unit file's `Key=` values (all lines, split on blanks). */
export function unitValues(text: string, key: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${key}=`)).flatMap((l) => l.slice(key.length + 1).trim().split(/\s+/)).filter(Boolean);
}

/** Units enabled by symlink in the root's /etc/systemd/system/<target>.wants. */
export async function enabledUnits(root: string): Promise<string[]> {
  const base = join(root, 'etc/systemd/system');
  const out: string[] = [];
  for (const d of await readdir(base).catch(() => [] as string[])) {
    if (d.endsWith('.wants')) out.push(...(await readdir(join(base, d))));
  }
  return [...new Set(out)].sort();
}

/**
 * The host name RHEL's readonly-root sees. systemd first (hostname-setup.c: /etc/hostname if it
 * has a name, else an existing host name is kept), then every unit ordered before the readonly-root
 * unit that sets a name: netroot-hostname.service, run here for real with the node's command line.
 */
export async function hostnameAtReadonlyRoot(root: string, readonlyUnit: string, initramfs: string, cmdline: string): Promise<string> {
  const etc = (await readFile(join(root, 'etc/hostname'), 'utf8').catch(() => '')).trim();
  let name = etc || initramfs;
  for (const u of await enabledUnits(root)) {
    const text = await readFile(join(root, 'etc/systemd/system', u), 'utf8').catch(() => '');
    if (!unitValues(text, 'Before').includes(readonlyUnit)) continue;
    const exec = unitValues(text, 'ExecStart')[0];
    if (exec !== '/usr/lib/netroot/hostname') throw new Error(`model: unknown unit ${u} before ${readonlyUnit} (${exec})`);
    const dir = await mkdtemp(join(tmpdir(), 'netroot-el-model-'));
    try {
      await writeFile(join(dir, 'cmdline'), `${cmdline}\n`);
      const r = await runCommand(['unshare', '--uts', '--mount', 'sh', '-c',
        'hostname "$1" && mount --bind "$2" /proc/cmdline && sh "$3" >&2 && cat /proc/sys/kernel/hostname',
        'model', name, join(dir, 'cmdline'), join(root, exec)], { timeoutMs: 30_000 });
      name = r.stdout.trim();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return name;
}

/** `. /etc/sysconfig/readonly-root` for the plain NAME=value lines netroot writes. */
export function sourceConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export interface StateMount {
  /** What `mount -t nfs` is given, or null when readonly-root mounts no NFS state. */
  source: string | null;
  /** statetab paths readonly-root binds from the state (those present in the root). */
  paths: string[];
}

/**
 * RHEL's readonly-root, the steps that decide the state mount (fedora-sysv/initscripts; EL7
 * systemd/rhel-readonly, EL8/EL9 usr/libexec/readonly-root):
 * - HOSTNAME: EL8/EL9 `HOSTNAME="$(hostname)"`; EL7 bash's own $HOSTNAME, the same gethostname();
 * - only with READONLY=yes or TEMPORARY_STATE=yes;
 * - a host name of localhost or localhost.localdomain is replaced by `ipcalc -h` (reverse DNS of
 *   the address; none here, so the name stays empty);
 * - state: `mount $STATE_OPTIONS $STATE_MOUNT` (an fstab entry), else the STATE_LABEL partition,
 *   else `mount -t nfs $CLIENTSTATE/$HOSTNAME $STATE_MOUNT -o rw,nolock`;
 * - statetab: /etc/statetab and /etc/statetab.d/*, `grep -v "^#"`, each existing path bound
 *   (EL7 splits the output on blanks, EL8/EL9 read it line by line: netroot's paths have none).
 */
export async function readonlyRootState(root: string, hostname: string): Promise<StateMount> {
  const conf = sourceConfig(await readFile(join(root, 'etc/sysconfig/readonly-root'), 'utf8'));
  if (conf.READONLY !== 'yes' && conf.TEMPORARY_STATE !== 'yes') return { source: null, paths: [] };
  const HOSTNAME = hostname === 'localhost' || hostname === 'localhost.localdomain' ? '' : hostname;
  const stateMount = conf.STATE_MOUNT ?? '';
  const fstab = await readFile(join(root, 'etc/fstab'), 'utf8');
  if (fstab.split('\n').some((l) => l.trim().split(/\s+/)[1] === stateMount)) throw new Error('model: STATE_MOUNT is in fstab');
  if (conf.STATE_LABEL) throw new Error(`model: STATE_LABEL=${conf.STATE_LABEL} is set: a node with that label mounts it first`);
  const source = conf.CLIENTSTATE ? `${conf.CLIENTSTATE}/${HOSTNAME}` : null;
  const paths: string[] = [];
  const tabs = ['etc/statetab', ...(await readdir(join(root, 'etc/statetab.d')).catch(() => [] as string[])).map((f) => `etc/statetab.d/${f}`)];
  for (const t of tabs) {
    const text = await readFile(join(root, t), 'utf8').catch(() => null);
    if (text === null) continue;
    for (const line of text.split('\n').filter((l) => !l.startsWith('#'))) {
      for (const p of line.split(/\s+/).filter(Boolean)) {
        if (await readFile(join(root, p)).then(() => true, (e: NodeJS.ErrnoException) => e.code === 'EISDIR')) paths.push(p);
      }
    }
  }
  return { source, paths };
}
