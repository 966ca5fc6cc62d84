/**
 * TFTP benchmark, netroot vs tftpd-hpa vs dnsmasq, same files, one run, on 127.0.0.1 (netroot
 * 1069, tftpd-hpa 2069, dnsmasq 69: dnsmasq's TFTP port is fixed). tftpd-hpa does not answer
 * inside a fresh network namespace here, hence the host loopback.
 *   node dist/bench/tftp/run.js [--runs N] [--servers netroot,tftpd-hpa,dnsmasq]
 *        [--cases 512,1468,win16,20x30,500x1] [--netroot workers=2,...] [--node-arg=--cpu-prof ...]
 * (root; needs tftpd-hpa, dnsmasq, curl, atftp). Bounded: each case runs `runs` times per server
 * (servers interleaved within a round, so load changes hit all of them alike), each client with a
 * timeout. Prints every run, then a table of medians in MiB/s with ratios and the load averages
 * seen before each round (the machine is shared: read the numbers next to the load).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, start, type Started } from '../../test/helpers/proc.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const serveJs = resolve(here, '../../test/integration/tftp/serve.js');
const MiB = 1 << 20;

interface Server {
  name: string;
  port: number;
}

function arg(name: string, dflt: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  if (a) return a.slice(name.length + 3);
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}
const runs = Number(arg('runs', '1'));
if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new RangeError(`--runs: 1-20, got ${arg('runs', '1')}`);
const wanted = arg('servers', 'netroot,tftpd-hpa,dnsmasq').split(',');
const cases = arg('cases', '512,1468,win16,20x30,500x1').split(',');
/** Extra serve.js options for netroot, e.g. --netroot workers=2 (numeric TftpServerOptions). */
const netrootArgs = arg('netroot', '').split(',').filter(Boolean);
const nodeArgs = process.argv.filter((x) => x.startsWith('--node-arg=')).map((x) => x.slice('--node-arg='.length));

const exec = (a: string[], timeoutMs: number) => run(a[0]!, a.slice(1), { timeoutMs });

async function timed(argv: string[][], timeoutMs = 600_000): Promise<number> {
  const t0 = process.hrtime.bigint();
  await Promise.all(argv.map((a) => exec(a, timeoutMs)));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Runs `count` clients, at most `parallel` at a time; returns seconds for all. */
async function pool(count: number, parallel: number, make: (i: number) => string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await exec(make(i), 300_000);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const curl = (s: Server, file: string, blk: number, out: string) => ['curl', '-sS', '--tftp-blksize', String(blk), '-o', out, `tftp://127.0.0.1:${s.port}/${file}`];
const atftp = (s: Server, file: string, out: string, win: number) => ['atftp', '--get', '-r', file, '-l', out, '--option', 'blksize 1468', '--option', `windowsize ${win}`, '127.0.0.1', String(s.port)];

/** Case key -> label and a function measuring MiB/s once against a server. */
const CASES: Record<string, [string, (s: Server, o: string) => Promise<number>]> = {
  '512': ['60 MB blksize 512 (curl)', async (s, o) => 60 / (await timed([curl(s, '60m.bin', 512, o)]))],
  '1468': ['60 MB blksize 1468 (curl)', async (s, o) => 60 / (await timed([curl(s, '60m.bin', 1468, o)]))],
  win16: ['60 MB blksize 1468 windowsize 16 (atftp)', async (s, o) => 60 / (await timed([atftp(s, '60m.bin', o, 16)]))],
  '20x30': ['20 clients x 30 MB, aggregate (curl 1468)', async (s, o) => (20 * 30) / (await timed(Array.from({ length: 20 }, (_, i) => curl(s, '30m.bin', 1468, `${o}-30-${i}`))))],
  '500x1': ['500 clients x 1 MB, 100 at a time (curl 1468)', async (s, o) => 500 / (await pool(500, 100, (i) => curl(s, '1m.bin', 1468, `${o}-1-${i}`)))],
};
for (const c of cases) if (!CASES[c]) throw new RangeError(`--cases: unknown case ${c} (${Object.keys(CASES).join(', ')})`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-bench-tftp-'));
  const root = join(dir, 'root');
  const outDir = join(dir, 'out');
  await Promise.all([mkdir(root), mkdir(outDir)]);
  await writeFile(join(root, '60m.bin'), randomBytes(60 * MiB));
  await writeFile(join(root, '30m.bin'), randomBytes(30 * MiB));
  await writeFile(join(root, '1m.bin'), randomBytes(MiB));
  const procs: Started[] = [];
  try {
    const all: Server[] = [];
    if (wanted.includes('netroot')) {
      const ours = start(process.execPath, [...nodeArgs, serveJs, root, '127.0.0.1', '1069', 'maxPerClient=1000', 'maxTransfers=1000', 'maxWindowsize=64', ...netrootArgs]);
      procs.push(ours);
      await ours.waitFor(/tftp listening/);
      all.push({ name: 'netroot', port: 1069 });
    }
    if (wanted.includes('tftpd-hpa')) {
      procs.push(start('in.tftpd', ['--foreground', '--listen', '--user', 'root', '--address', '127.0.0.1:2069', '--secure', '--blocksize', '65464', root]));
      all.push({ name: 'tftpd-hpa', port: 2069 });
    }
    if (wanted.includes('dnsmasq')) {
      procs.push(start('dnsmasq', ['--keep-in-foreground', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--listen-address=127.0.0.1', '--bind-interfaces', '--enable-tftp', `--tftp-root=${root}`, '--tftp-no-fail', '--tftp-max=1000', '--pid-file=', '--user=root']));
      all.push({ name: 'dnsmasq', port: 69 });
    }
    await new Promise((r) => setTimeout(r, 1000));
    const results: Record<string, Record<string, number[]>> = {};
    const loads: string[] = [];
    for (let round = 1; round <= runs; round++) {
      loads.push(load());
      console.error(`bench: round ${round}/${runs}, load ${loads.at(-1)}`);
      for (const c of cases) {
        const [label, measure] = CASES[c]!;
        for (const s of all) {
          const v = await measure(s, join(outDir, s.name));
          ((results[label] ??= {})[s.name] ??= []).push(v);
          console.error(`bench: ${label} ${s.name} ${v.toFixed(1)} MiB/s (load ${load()})`);
          await rm(outDir, { recursive: true, force: true });
          await mkdir(outDir);
        }
      }
    }
    const names = all.map((s) => s.name);
    const ratios = names.includes('netroot') ? names.filter((n) => n !== 'netroot') : [];
    console.log(`| case (MiB/s, median of ${runs}) | ${names.join(' | ')} |${ratios.map((n) => ` netroot / ${n} |`).join('')}`);
    console.log(`|---|${names.map(() => '---|').join('')}${ratios.map(() => '---|').join('')}`);
    for (const [c, r] of Object.entries(results)) {
      const m = (n: string) => (r[n] ? median(r[n]) : NaN);
      console.log(`| ${c} | ${names.map((n) => m(n).toFixed(1)).join(' | ')} |${ratios.map((n) => ` ${(m('netroot') / m(n)).toFixed(2)}x |`).join('')}`);
    }
    console.log(`load averages (1/5/15 min) at the start of each round: ${loads.join('; ')}; at the end: ${load()}`);
  } finally {
    for (const p of procs) await p.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
