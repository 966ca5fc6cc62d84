/**
 * The storm's nodes: N simulated PXE nodes in one process, all started at once, each doing what
 * a UEFI PXE node does:
 *   dhcp       firmware DHCP (DISCOVER/OFFER/REQUEST/ACK), boot file = the loader
 *   tftp       the loader over TFTP, lockstep, blksize 1468, no windowsize
 *   ipxe-dhcp  iPXE's own DHCP exchange, boot file = the script URL (`${mac}` expanded as iPXE does)
 *   script     the iPXE script over HTTP; its `kernel` and `initrd` lines name the next URLs
 *   kernel     the kernel over HTTP
 *   initrd     the initramfs over HTTP
 * An unregistered node's script is a refusal (no kernel line): it stops there, as iPXE would.
 * Every download is checked (size and SHA-256, or kernel and initramfs byte for byte with
 * `verify: 'bytes'`; the TFTP tsize); every lease is checked (the
 * reserved address for a registered node, a pool address given to no other node for the rest).
 * A node that fails a stage stops; the failure is recorded with its reason.
 */
import { ipToInt } from '../../pxe/net/ipv4.js';
import { DhcpClients, type Lease } from './dhcp-client.js';
import { httpGet } from './http-client.js';
import { DownloadPool } from './pool.js';
import type { StormNode } from './fleet.js';

export const STAGES = ['dhcp', 'tftp', 'ipxe-dhcp', 'script', 'kernel', 'initrd'] as const;
export type Stage = (typeof STAGES)[number];

export interface FileSpec {
  size: number;
  sha256: string;
  /** The file itself, for `verify: 'bytes'`. */
  path: string;
}

export interface Plan {
  ifname: string;
  server: string;
  nodes: StormNode[];
  pool: { start: string; end: string } | null;
  loader: FileSpec & { name: string };
  kernel: FileSpec;
  initrd: FileSpec;
  tftp: { blksize: number; timeoutMs: number; retries: number };
  httpIdleMs: number;
  /**
   * How kernel and initramfs are checked: 'sha256' of every byte received, or 'bytes', compared
   * with the file (read once) as they arrive; the size is checked either way, the loader and the
   * script always by SHA-256.
   */
  verify: 'sha256' | 'bytes';
  /** Worker threads of the client that download loaders (TFTP), kernels and initramfs (DHCP and scripts stay on the main thread). */
  workers: number;
}

export interface NodeResult {
  mac: string;
  known: boolean;
  ip: string | null;
  /** 'booted': has loader, script, kernel, initramfs; 'refused': an unknown node's refusal script (expected). */
  outcome: 'booted' | 'refused' | 'failed';
  failed: { stage: Stage; reason: string } | null;
  /** ms since the storm started: [start, end] of each stage reached. */
  t: Partial<Record<Stage, [number, number]>>;
  retransmits: { dhcp: number; tftp: number; ipxeDhcp: number };
  tftpDuplicates: number;
}

export interface ClientReport extends StormResult {
  wallMs: number;
  cpuSec: number;
  maxRssKiB: number;
  /** Event-loop delay of the client process (ms): how late it ran its timers and reads. */
  loopDelayMs: { p50: number; p99: number; max: number };
}

class StageError extends Error {}

const check = (ok: boolean, what: string) => {
  if (!ok) throw new StageError(what);
};

/** iPXE expands settings in the DHCP filename; the storm's servers use ${mac} (and its long form). */
export function expandIpxe(file: string, mac: string): string {
  const out = file.replace(/\$\{(?:net0\/)?mac\}/g, mac);
  if (out.includes('${')) throw new StageError(`unsupported setting in boot file ${JSON.stringify(file)}`);
  return out;
}

/** The kernel and initrd URLs of an iPXE script (null when it has no kernel line: a refusal). */
export function scriptUrls(text: string): { kernel: string; initrd: string } | null {
  const kernel = /^kernel\s+(\S+)/m.exec(text)?.[1];
  const initrd = /^initrd\s+(\S+)/m.exec(text)?.[1];
  if (!kernel) return null;
  if (!initrd) throw new StageError('script has a kernel but no initrd line');
  return { kernel, initrd };
}

export interface StormResult {
  nodes: NodeResult[];
  /** DHCP replies that matched no exchange in progress, and replies that did not decode. */
  dhcpStray: number;
  dhcpUndecodable: number;
}

export async function storm(plan: Plan, now: () => number = () => performance.now()): Promise<StormResult> {
  const dhcp = await DhcpClients.open(plan.ifname);
  const pool = plan.pool ? [ipToInt(plan.pool.start), ipToInt(plan.pool.end)] as const : null;
  const downloads = new DownloadPool(plan.workers, {
    expect: plan.verify === 'bytes'
      ? { kernel: { path: plan.kernel.path, sha256: plan.kernel.sha256 }, initrd: { path: plan.initrd.path, sha256: plan.initrd.sha256 } }
      : null,
  });
  const t0 = now();
  const ms = () => Math.round((now() - t0) * 10) / 10;

  async function boot(n: StormNode): Promise<NodeResult> {
    const r: NodeResult = { mac: n.mac, known: n.known, ip: null, outcome: 'failed', failed: null, t: {}, retransmits: { dhcp: 0, tftp: 0, ipxeDhcp: 0 }, tftpDuplicates: 0 };
    let stage: Stage = 'dhcp';
    const step = async <T>(s: Stage, work: () => Promise<T>): Promise<T> => {
      stage = s;
      const start = ms();
      const v = await work();
      r.t[s] = [start, ms()];
      return v;
    };
    const checkLease = (l: Lease, first: boolean) => {
      check(l.serverId === plan.server, `server id ${l.serverId}, expected ${plan.server}`);
      if (n.known) check(l.yiaddr === n.ipv4, `address ${l.yiaddr}, reserved ${n.ipv4}`);
      else {
        const a = ipToInt(l.yiaddr);
        check(pool !== null && a >= pool[0] && a <= pool[1], `address ${l.yiaddr} outside the pool`);
      }
      if (!first) check(l.yiaddr === r.ip, `iPXE got ${l.yiaddr}, firmware had ${r.ip}`);
    };
    try {
      const lease = await step('dhcp', () => dhcp.exchange(n.mac, 'firmware'));
      r.retransmits.dhcp = lease.retransmits;
      r.ip = lease.yiaddr;
      checkLease(lease, true);
      check(lease.file === plan.loader.name, `boot file ${JSON.stringify(lease.file)}, expected ${plan.loader.name}`);
      const tftpServer = lease.siaddr !== '0.0.0.0' ? lease.siaddr : lease.serverId;
      const got = await step('tftp', () => downloads.tftp({ server: tftpServer, localAddress: r.ip!, file: lease.file, ...plan.tftp }));
      r.retransmits.tftp = got.retransmits;
      r.tftpDuplicates = got.duplicates;
      check(got.blksize === plan.tftp.blksize, `blksize ${got.blksize}`);
      check(got.tsize === plan.loader.size, `tsize ${got.tsize}, file has ${plan.loader.size}`);
      check(got.bytes === plan.loader.size && got.sha256 === plan.loader.sha256, `loader: ${got.bytes} bytes, sha256 ${got.sha256.slice(0, 12)}: not the file`);
      const lease2 = await step('ipxe-dhcp', () => dhcp.exchange(n.mac, 'ipxe'));
      r.retransmits.ipxeDhcp = lease2.retransmits;
      checkLease(lease2, false);
      const url = expandIpxe(lease2.file, n.mac);
      check(url.startsWith('http://'), `iPXE boot file ${JSON.stringify(lease2.file)} is not an http:// URL`);
      const script = await step('script', () => httpGet({ url, localAddress: r.ip!, idleMs: plan.httpIdleMs, keepBody: true }));
      check(script.status === 200, `script: HTTP ${script.status}`);
      check(script.contentLength === null || script.contentLength === script.bytes, `script: ${script.bytes} bytes, Content-Length ${script.contentLength}`);
      const text = script.body!.toString('utf8');
      check(text.startsWith('#!ipxe'), 'script: not an iPXE script');
      const urls = scriptUrls(text);
      if (!n.known) {
        check(urls === null, 'an unregistered node was given a kernel');
        r.outcome = 'refused';
        return r;
      }
      check(urls !== null, `script of a registered node has no kernel line: ${JSON.stringify(text.slice(0, 200))}`);
      for (const [s, u, spec] of [['kernel', urls!.kernel, plan.kernel], ['initrd', urls!.initrd, plan.initrd]] as const) {
        const f = await step(s, () => downloads.http(s, { url: u, localAddress: r.ip!, idleMs: plan.httpIdleMs }));
        check(f.status === 200, `HTTP ${f.status}`);
        check(f.bytes === spec.size && f.contentLength === spec.size, `${f.bytes} bytes (Content-Length ${f.contentLength}), file has ${spec.size}`);
        check(f.sha256 === spec.sha256, f.sha256 === 'mismatch' ? 'bytes differ from the file' : `sha256 ${f.sha256.slice(0, 12)}: not the file`);
      }
      r.outcome = 'booted';
      return r;
    } catch (e) {
      r.failed = { stage, reason: (e as Error).message };
      return r;
    }
  }

  try {
    const results = await Promise.all(plan.nodes.map((n) => boot(n)));
    // The pool must never hand one address to two nodes.
    const owner = new Map<string, NodeResult>();
    for (const r of results) {
      if (!r.ip || r.failed?.stage === 'dhcp') continue;
      const o = owner.get(r.ip);
      if (o) {
        for (const x of [o, r]) {
          x.outcome = 'failed';
          x.failed = { stage: 'dhcp', reason: `address ${r.ip} given to ${o.mac} and ${r.mac}` };
        }
      } else owner.set(r.ip, r);
    }
    return { nodes: results, dhcpStray: dhcp.stray, dhcpUndecodable: dhcp.undecodable };
  } finally {
    await dhcp.close();
    await downloads.close();
  }
}

