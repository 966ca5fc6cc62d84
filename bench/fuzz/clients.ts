/**
 * Real clients of the fuzz campaign, run in the client namespace from the registered node's own
 * MAC and address: udhcpc must get the node's reservation, tftp-hpa must fetch a boot loader with
 * the right sha256, curl must fetch the node's iPXE script and the kernel it names (sha256 of the
 * published version's file). A round runs the three at once; each has a hard time limit.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Ns } from '../../test/helpers/netns.js';
import type { ClientKind, ClientResult, Phase } from './report.js';

export interface ClientSetup {
  ns: Ns;
  ifname: string;
  /** The node's reservation: udhcpc must be offered exactly this. */
  ip: string;
  server: string;
  /** Directory for the udhcpc script and downloads. */
  dir: string;
  udhcpcScript: string;
  tftp: { file: string; sha256: string };
  /** The node's iPXE script URL, lines it must contain, and the kernel it names with its sha256. */
  http: { scriptUrl: string; mustContain: string[]; kernelUrl: string; kernelSha256: string };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function timed(kind: ClientKind, phase: Phase, round: number, f: () => Promise<string>): Promise<ClientResult> {
  const t0 = Date.now();
  try {
    const detail = await f();
    return { kind, phase, round, ok: true, ms: Date.now() - t0, detail };
  } catch (e) {
    return { kind, phase, round, ok: false, ms: Date.now() - t0, detail: (e as Error).message.slice(0, 500) };
  }
}

/** Runs argv in the namespace; kills it after limitMs. Resolves with exit code and output. */
async function inNs(c: ClientSetup, argv: string[], limitMs: number): Promise<{ code: number | null; out: string }> {
  const p = c.ns.start(argv);
  const kill = setTimeout(() => p.child.kill('SIGKILL'), limitMs);
  const code = await p.exited;
  clearTimeout(kill);
  return { code, out: p.output() };
}

async function dhcp(c: ClientSetup): Promise<string> {
  // 5 DISCOVERs a second apart, then give up (-n): a lease in 5 s or a failure.
  const r = await inNs(c, ['udhcpc', '-f', '-q', '-n', '-i', c.ifname, '-t', '5', '-T', '1', '-A', '1', '-s', c.udhcpcScript], 30_000);
  const bound = r.out.split('\n').find((l) => l.startsWith('UDHCPC bound'));
  if (!bound) throw new Error(`udhcpc got no lease (exit ${r.code}): ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
  if (!bound.includes(` ip=${c.ip} `)) throw new Error(`udhcpc got the wrong address: ${bound}`);
  return bound;
}

async function tftp(c: ClientSetup, round: number): Promise<string> {
  const out = join(c.dir, `tftp-${round}`);
  try {
    const r = await inNs(c, ['tftp', '-m', 'binary', c.server, '-c', 'get', c.tftp.file, out], 60_000);
    let got: Buffer;
    try {
      got = readFileSync(out);
    } catch {
      throw new Error(`tftp-hpa fetched nothing (exit ${r.code}): ${r.out.trim().slice(0, 200)}`);
    }
    if (sha256(got) !== c.tftp.sha256) throw new Error(`tftp-hpa: ${c.tftp.file} has the wrong sha256 (${got.length} bytes; exit ${r.code}: ${r.out.trim().slice(0, 200)})`);
    return `${c.tftp.file} ${got.length} bytes, sha256 ok`;
  } finally {
    rmSync(out, { force: true });
  }
}

async function http(c: ClientSetup, round: number): Promise<string> {
  const script = join(c.dir, `script-${round}`);
  const kernel = join(c.dir, `kernel-${round}`);
  try {
    const s = await inNs(c, ['curl', '-sS', '--max-time', '20', '-o', script, '-w', '%{http_code}', c.http.scriptUrl], 30_000);
    if (s.out.trim() !== '200') throw new Error(`curl ${c.http.scriptUrl}: ${s.out.trim()}`);
    const text = readFileSync(script, 'utf8');
    for (const line of c.http.mustContain) if (!text.includes(line)) throw new Error(`the iPXE script lacks ${JSON.stringify(line)}: ${text.slice(0, 300)}`);
    const k = await inNs(c, ['curl', '-sS', '--max-time', '30', '-o', kernel, '-w', '%{http_code}', c.http.kernelUrl], 40_000);
    if (k.out.trim() !== '200') throw new Error(`curl ${c.http.kernelUrl}: ${k.out.trim()}`);
    if (sha256(readFileSync(kernel)) !== c.http.kernelSha256) throw new Error('curl: the kernel has the wrong sha256');
    return `script ${text.length} bytes and kernel, sha256 ok`;
  } finally {
    rmSync(script, { force: true });
    rmSync(kernel, { force: true });
  }
}

export function clientRound(c: ClientSetup, phase: Phase, round: number): Promise<ClientResult[]> {
  return Promise.all([
    timed('dhcp', phase, round, () => dhcp(c)),
    timed('tftp', phase, round, () => tftp(c, round)),
    timed('http', phase, round, () => http(c, round)),
  ]);
}
