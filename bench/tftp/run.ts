/**
 * TFTP benchmark, netroot vs tftpd-hpa vs dnsmasq, same files, one run, on 127.0.0.1 (netroot
 * 1069, tftpd-hpa 2069, dnsmasq 69: dnsmasq's TFTP port is fixed). tftpd-hpa does not answer
 * inside a fresh network namespace here, hence the host loopback.
 *   node dist/bench/tftp/run.js            (root; needs tftpd-hpa, dnsmasq, curl, atftp)
 * Bounded: each case runs once per server with a timeout. Prints a table of MiB/s and ratios.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, start, type Started } from '../../test/helpers/proc.js';

/** The host (127.0.0.1) as a place to run commands. */
const ns = { run: (a: string[], o?: { timeoutMs?: number }) => run(a[0]!, a.slice(1), o), start: (a: string[]) => start(a[0]!, a.slice(1)) };
type Ns = typeof ns;

const here = fileURLToPath(new URL('.', import.meta.url));
const serveJs = resolve(here, '../../test/integration/tftp/serve.js');
const MiB = 1 << 20;

interface Server {
  name: string;
  port: number;
}

async function timed(ns: Ns, argv: string[][], timeoutMs = 600_000): Promise<number> {
  const t0 = process.hrtime.bigint();
  await Promise.all(argv.map((a) => ns.run(a, { timeoutMs })));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Runs `count` clients, at most `parallel` at a time; returns seconds for all. */
async function pool(ns: Ns, count: number, parallel: number, make: (i: number) => string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await ns.run(make(i), { timeoutMs: 300_000 });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const curl = (s: Server, file: string, blk: number, out: string) => ['curl', '-sS', '--tftp-blksize', String(blk), '-o', out, `tftp://127.0.0.1:${s.port}/${file}`];
const atftp = (s: Server, file: string, out: string, win: number) => ['atftp', '--get', '-r', file, '-l', out, '--option', 'blksize 1468', '--option', `windowsize ${win}`, '127.0.0.1', String(s.port)];

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-bench-tftp-'));
  const root = join(dir, 'root');
  const outDir = join(dir, 'out');
  await import('node:fs/promises').then((f) => Promise.all([f.mkdir(root), f.mkdir(outDir)]));
  await writeFile(join(root, '60m.bin'), randomBytes(60 * MiB));
  await writeFile(join(root, '30m.bin'), randomBytes(30 * MiB));
  await writeFile(join(root, '1m.bin'), randomBytes(MiB));
  const procs: Started[] = [];
  try {
    const ours = ns.start([process.execPath, serveJs, root, '127.0.0.1', '1069', 'maxPerClient=1000', 'maxTransfers=1000', 'maxWindowsize=64']);
    procs.push(ours);
    await ours.waitFor(/tftp listening/);
    const hpa = ns.start(['in.tftpd', '--foreground', '--listen', '--user', 'root', '--address', '127.0.0.1:2069', '--secure', '--blocksize', '65464', root]);
    procs.push(hpa);
    const dnsmasq = ns.start(['dnsmasq', '--keep-in-foreground', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--listen-address=127.0.0.1', '--bind-interfaces', '--enable-tftp', `--tftp-root=${root}`, '--tftp-no-fail', '--tftp-max=1000', '--pid-file=', '--user=root']);
    procs.push(dnsmasq);
    await new Promise((r) => setTimeout(r, 1000));
    const servers: Server[] = [
      { name: 'netroot', port: 1069 },
      { name: 'tftpd-hpa', port: 2069 },
      { name: 'dnsmasq', port: 69 },
    ];
    const results: Record<string, Record<string, number>> = {};
    const record = (c: string, s: string, v: number) => ((results[c] ??= {})[s] = v);
    for (const s of servers) {
      const o = join(outDir, s.name);
      record('60 MB blksize 512 (curl)', s.name, 60 / (await timed(ns, [curl(s, '60m.bin', 512, o)])));
      record('60 MB blksize 1468 (curl)', s.name, 60 / (await timed(ns, [curl(s, '60m.bin', 1468, o)])));
      record('60 MB blksize 1468 windowsize 16 (atftp)', s.name, 60 / (await timed(ns, [atftp(s, '60m.bin', o, 16)])));
      record('20 clients x 30 MB, aggregate (curl 1468)', s.name, (20 * 30) / (await timed(ns, Array.from({ length: 20 }, (_, i) => curl(s, '30m.bin', 1468, `${o}-30-${i}`)))));
      await rm(outDir, { recursive: true, force: true });
      await import('node:fs/promises').then((f) => f.mkdir(outDir));
      record('500 clients x 1 MB, 100 at a time (curl 1468)', s.name, 500 / (await pool(ns, 500, 100, (i) => curl(s, '1m.bin', 1468, `${o}-1-${i}`))));
      await rm(outDir, { recursive: true, force: true });
      await import('node:fs/promises').then((f) => f.mkdir(outDir));
      console.error(`bench: ${s.name} done`);
    }
    console.log('| case (MiB/s) | netroot | tftpd-hpa | dnsmasq | netroot / tftpd-hpa | netroot / dnsmasq |');
    console.log('|---|---|---|---|---|---|');
    for (const [c, r] of Object.entries(results)) {
      const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1));
      console.log(`| ${c} | ${f(r.netroot)} | ${f(r['tftpd-hpa'])} | ${f(r.dnsmasq)} | ${(r.netroot! / r['tftpd-hpa']!).toFixed(2)}x | ${(r.netroot! / r.dnsmasq!).toFixed(2)}x |`);
    }
  } finally {
    for (const p of procs) await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
