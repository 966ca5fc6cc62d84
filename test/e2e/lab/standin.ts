/**
 * The stand-in boot server of the timing comparison: dnsmasq (DHCP + TFTP) in the boot namespace
 * on the lab bridge, the way this VM was first booted before netroot existed (docs/lab.md, "Where
 * this comes from"). It serves the same boot loaders (Debian's ipxe), an iPXE script, and the
 * same kernel + initramfs of the same image version over TFTP; the root is the same NFS export
 * from the same Ganesha. netroot must be stopped while it runs (one DHCP server per link).
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ns } from '../../helpers/netns.js';
import { have, type Started } from '../../helpers/proc.js';
import { NET } from './network.js';

export interface StandinOptions {
  ns: Ns;
  dir: string;
  kernel: string;
  initrd: string;
  /** Kernel command line after the initrd= argument (root=, ip=, console=, ...). */
  cmdline: string;
}

export interface Standin {
  output(): string;
  stop(): Promise<void>;
}

export async function startStandin(o: StandinOptions): Promise<Standin> {
  if (!(await have('dnsmasq'))) throw new Error('dnsmasq missing: install dnsmasq-base (scripts/deps/e2e.txt)');
  const tftp = join(o.dir, 'tftp');
  await mkdir(tftp, { recursive: true });
  for (const f of ['undionly.kpxe', 'ipxe.efi']) await symlink(`/usr/lib/ipxe/${f}`, join(tftp, f));
  await symlink(o.kernel, join(tftp, 'vmlinuz'));
  await symlink(o.initrd, join(tftp, 'initrd.img'));
  await writeFile(join(tftp, 'boot.ipxe'), [
    '#!ipxe',
    `kernel tftp://${NET.server}/vmlinuz initrd=initrd.img ${o.cmdline}`,
    `initrd tftp://${NET.server}/initrd.img`,
    'boot', '',
  ].join('\n'));
  const conf = join(o.dir, 'dnsmasq.conf');
  await writeFile(conf, [
    'port=0', // no DNS
    // Stay root (in the namespace): its TFTP root sits in the run's 0700 temp dir.
    'user=root',
    `interface=${NET.bridge}`, 'bind-interfaces', 'no-resolv', 'no-hosts',
    `dhcp-range=${NET.vm},${NET.vm},255.255.255.0,1h`,
    `dhcp-host=${NET.vmMac},${NET.vm},vm1`,
    `domain=${NET.domain}`,
    `dhcp-leasefile=${join(o.dir, 'leases')}`,
    'dhcp-match=set:ipxe,175',
    'dhcp-vendorclass=set:efi,PXEClient:Arch:00007',
    'dhcp-boot=tag:!ipxe,tag:!efi,undionly.kpxe',
    'dhcp-boot=tag:!ipxe,tag:efi,ipxe.efi',
    'dhcp-boot=tag:ipxe,boot.ipxe',
    // iPXE's "no ProxyDHCP wait" (docs/lab.md, trap 5), as netroot sends it: same footing.
    'dhcp-option=encap:175,176,1',
    'enable-tftp', `tftp-root=${tftp}`,
    'log-dhcp', '',
  ].join('\n'));
  const proc: Started = o.ns.start(['dnsmasq', '--keep-in-foreground', '--log-facility=-', `--conf-file=${conf}`, `--pid-file=${join(o.dir, 'dnsmasq.pid')}`]);
  await proc.waitFor(/TFTP root is|started, version/, 10_000);
  await new Promise((r) => setTimeout(r, 300));
  if (proc.child.exitCode !== null) throw new Error(`dnsmasq exited: ${proc.output()}`);
  return {
    output: () => proc.output(),
    // `ip netns exec` execs dnsmasq in place (it stays in the foreground): this PID is its own.
    stop: async () => void (await proc.stop(3000)),
  };
}
