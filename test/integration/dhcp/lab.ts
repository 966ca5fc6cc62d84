/** Shared pieces of the DHCP namespace tests: fixtures, the server entry, client scripts. */
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ns } from '../../helpers/netns.js';
import type { Started } from '../../helpers/proc.js';
import { have } from '../../helpers/proc.js';
import type { BootTarget } from '../../../pxe/boot/types.js';
import type { DhcpServerOptions } from '../../../pxe/dhcp/index.js';

export const SERVE = join(process.cwd(), 'dist/test/integration/dhcp/serve-fixture.js');
export const RAW_CLIENT = join(process.cwd(), 'dist/test/integration/dhcp/raw-client.js');

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'netroot-dhcp-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function node(mac: string, ipv4: string, fqdn: string, over: Partial<BootTarget['node']> = {}, rootPath: string | null = '/var/lib/netroot/images/centos/3/root'): BootTarget {
  return {
    node: { mac, ipv4, fqdn, bootMode: 'ipxe', enabled: true, kernelArgs: '', image: rootPath ? 'centos' : null, ...over },
    image: rootPath ? { name: 'centos', version: '3', kernelPath: '/k', initrdPath: '/i', rootPath, kernelArgs: '' } : null,
  };
}

export function writeFixture(dir: string, options: DhcpServerOptions, nodes: BootTarget[], generated?: unknown): string {
  const p = join(dir, `fixture-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify({ options, nodes, generated }));
  return p;
}

export async function startServer(ns: Ns, fixture: string): Promise<Started> {
  const s = ns.start(['node', '--enable-source-maps', SERVE, fixture], { cwd: process.cwd() });
  await s.waitFor(/^(READY|FAILED.*)$/m, 20_000);
  if (/^FAILED/m.test(s.output())) throw new Error(`dhcp server failed to start:\n${s.output()}`);
  return s;
}

/** Parsed "TAG {json}" lines printed by serve-fixture. */
export function lines<T>(s: Started, tag: string): T[] {
  return s
    .output()
    .split('\n')
    .filter((l) => l.startsWith(`${tag} `))
    .map((l) => JSON.parse(l.slice(tag.length + 1)) as T);
}

export async function counters(s: Started): Promise<Record<string, Record<string, number>>> {
  const before = lines(s, 'COUNTERS').length;
  s.child.kill('SIGUSR2');
  const deadline = Date.now() + 5000;
  while (lines(s, 'COUNTERS').length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return lines<Record<string, Record<string, number>>>(s, 'COUNTERS').at(-1)!;
}

export async function requireTools(...cmds: string[]): Promise<void> {
  for (const c of cmds) if (!(await have(c))) throw new Error(`${c} is not installed: install the packages in scripts/deps/dhcp.txt`);
}

export function udhcpcScript(dir: string): string {
  const p = join(dir, 'udhcpc.sh');
  writeFileSync(p, '#!/bin/sh\necho "UDHCPC $1 ip=$ip siaddr=$siaddr boot_file=$boot_file hostname=$hostname domain=$domain rootpath=$rootpath serverid=$serverid subnet=$subnet router=$router"\n');
  chmodSync(p, 0o755);
  return p;
}

export function dhclientFiles(dir: string): { script: string; conf: string; lease: string; pid: string } {
  const script = join(dir, 'dhclient.sh');
  writeFileSync(script, '#!/bin/sh\necho "DHCLIENT $reason ip=$new_ip_address file=$new_filename host=$new_host_name domain=$new_domain_name root=$new_root_path server=$new_dhcp_server_identifier"\n');
  chmodSync(script, 0o755);
  const conf = join(dir, 'dhclient.conf');
  writeFileSync(conf, 'request subnet-mask, broadcast-address, routers, domain-name, host-name, root-path;\n');
  return { script, conf, lease: join(dir, 'dhclient.leases'), pid: join(dir, 'dhclient.pid') };
}
