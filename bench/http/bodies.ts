/**
 * How to send boot file bodies: an A/B of the ways weighed for issue 15, each against nginx in
 * the same run, with the CPU of the clients as well as the server's (on 2 cores the clients'
 * cost decides throughput as much as the server's). bench/http/run.js is the bench of record
 * (`netroot serve` against nginx); this one explains the choice behind it (bench/README.md,
 * "HTTP boot bodies").
 *
 *   npm run build && node dist/bench/http/bodies.js [--rounds 3] [--clients 100] [--mb 60]
 *       [--ways nginx,native,stream,memory] [--out /dev/shm|/dev/null]
 *
 * Root; Debian packages nginx-light (or nginx) and curl. Servers in one network namespace, curl
 * in another, over a veth pair. Ways:
 *   native    netroot's boot handler, bodies by the native sender (sendfile(2) from its threads)
 *   stream    netroot's boot handler, the body streamed through Node (no addon)
 *   memory    the file held in one Buffer, res.end(buffer) (a cache of boot files in memory)
 *   nginx     nginx, sendfile on, tcp_nopush on, one worker per core
 * Every round rotates the order. First an untimed round checks every copy's size and sha256;
 * timed rounds check sizes. Server CPU: /proc/<pid>/stat of the server (nginx: its workers);
 * clients' CPU: bash's `times` around each curl. Prints a markdown table with the 1-minute load
 * average before and after each round; a figure from a round that began at 1.0 or more is not a
 * result. Bounded: each curl has a 600 s limit.
 */
import { createServer, type RequestListener } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const MAC = '52:54:00:12:34:56';
const PATH = `/boot/${MAC}/1/initrd.img`;
const PORT0 = 8100;
const WAYS = ['nginx', 'native', 'stream', 'memory'] as const;
type Way = (typeof WAYS)[number];

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Child mode: serve `dir`/boot/initramfs.img at PATH on addr:port the given way. */
async function serve(way: Way, dir: string, addr: string, port: number) {
  const file = join(dir, 'boot/initramfs.img');
  let handler: RequestListener;
  if (way === 'memory') {
    const body = readFileSync(file);
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
      res.end(body);
    };
  } else {
    const { createBootHandler } = await import('../../pxe/http/boot-handler.js');
    const image = { name: 'bench', version: '1', kernelPath: file, initrdPath: file, rootPath: '/srv/root', kernelArgs: '' };
    const node = { mac: MAC, fqdn: 'bench.lab', ipv4: '10.52.0.10', bootMode: 'ipxe' as const, enabled: true, kernelArgs: '', image: 'bench' };
    handler = createBootHandler({
      directory: { lookup: async (m) => (m === MAC ? { node, image } : null) },
      events: () => {},
      discovery: () => {},
      baseUrl: `http://${addr}:${port}`,
      nfsServer: addr,
      native: way !== 'stream',
    });
  }
  createServer(handler).listen(port, addr, () => console.log('listening'));
}

/** utime + stime of pid and, for nginx, its workers, in seconds. */
function cpuOf(pid: number, withChildren: boolean): number {
  const ticks = (p: number) => {
    const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  let t = ticks(pid);
  if (withChildren) {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) t += ticks(Number(c));
    }
  }
  return t / 100;
}

const seconds = (t: string) => {
  const m = /(\d+)m([\d.]+)s/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};

async function bench() {
  const { Lab } = await import('../../test/helpers/netns.js');
  const rounds = Number(option('rounds', '3'));
  const clients = Number(option('clients', '100'));
  const mb = Number(option('mb', '60'));
  const out = option('out', '/dev/shm');
  const ways = option('ways', WAYS.join(',')).split(',') as Way[];
  for (const w of ways) if (!WAYS.includes(w)) throw new Error(`--ways: unknown way ${w} (${WAYS.join(', ')})`);
  const size = mb << 20;
  const dir = await mkdtemp(join(tmpdir(), 'netroot-bench-bodies-'));
  const lab = await Lab.create('bbody');
  const stops: (() => Promise<unknown>)[] = [];
  try {
    await mkdir(join(dir, 'boot'));
    await mkdir(join(dir, 'nginx'));
    const data = randomBytes(size);
    const want = createHash('sha256').update(data).digest('hex');
    await writeFile(join(dir, 'boot/initramfs.img'), data);
    const srv = await lab.ns('srv');
    const cli = await lab.ns('cli');
    await lab.link(srv, '10.77.0.1/24', cli, '10.77.0.2/24');
    const servers = new Map<Way, { port: number; pid: number }>();
    for (const [i, way] of ways.entries()) {
      const port = PORT0 + i;
      if (way === 'nginx') {
        const conf = join(dir, 'nginx.conf');
        await writeFile(
          conf,
          `daemon off; user root; worker_processes auto; error_log stderr; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${dir}/nginx; proxy_temp_path ${dir}/nginx; fastcgi_temp_path ${dir}/nginx; uwsgi_temp_path ${dir}/nginx; scgi_temp_path ${dir}/nginx;
  server { listen 10.77.0.1:${port}; location = ${PATH} { alias ${dir}/boot/initramfs.img; } } }
`,
        );
        const p = srv.start(['nginx', '-c', conf, '-p', dir]);
        stops.push(() => p.stop());
        servers.set(way, { port, pid: p.pid });
      } else {
        const p = srv.start([process.execPath, new URL(import.meta.url).pathname, 'serve', way, dir, '10.77.0.1', String(port)]);
        stops.push(() => p.stop());
        await p.waitFor(/listening/);
        servers.set(way, { port, pid: p.pid });
      }
    }
    await new Promise((r) => setTimeout(r, 1000));

    /** One curl; resolves with its size, its sha256 when asked, and the CPU seconds it used. */
    const curl = (url: string, hash: boolean) =>
      new Promise<{ bytes: number; sha: string | null; cpu: number }>((resolve, reject) => {
        const target = hash ? '-' : out === '/dev/null' ? '/dev/null' : `${out}/netroot-bodies-$$`;
        const script = hash
          ? `set -o pipefail; curl -sS -f --max-time 600 "$0" | sha256sum || exit 1; times`
          : `curl -sS -f --max-time 600 -o ${target} -w '%{size_download}\\n' "$0" || exit 1; rm -f ${out}/netroot-bodies-$$; times`;
        const [c, a] = cli.wrap(['bash', '-c', script, url]);
        const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.on('close', (code) => {
          const lines = text.trim().split('\n');
          const [u = '', s = ''] = (lines.at(-1) ?? '').split(' ');
          if (code !== 0 || lines.length < 3) return reject(new Error(`curl ${url}: exit ${code}: ${text}`));
          resolve(hash ? { bytes: size, sha: lines[0]!.split(' ')[0]!, cpu: seconds(u) + seconds(s) } : { bytes: Number(lines[0]), sha: null, cpu: seconds(u) + seconds(s) });
        });
      });

    // Untimed: every copy of every way, by sha256.
    for (const way of ways) {
      const url = `http://10.77.0.1:${servers.get(way)!.port}${PATH}`;
      const got = await Promise.all(Array.from({ length: clients }, () => curl(url, true)));
      const bad = got.filter((g) => g.sha !== want).length;
      if (bad) throw new Error(`${way}: ${bad} of ${clients} copies do not match by sha256`);
    }
    console.log(`${ways.join(', ')}: ${clients} of ${clients} copies match by sha256 each`);

    const gib = (clients * size) / 2 ** 30;
    const rows: string[] = [];
    const runs = new Map<Way, { s: number; server: number; clients: number }[]>(ways.map((w) => [w, []]));
    for (let r = 0; r < rounds; r++) {
      const order = ways.map((_, i) => ways[(i + r) % ways.length]!);
      for (const way of order) {
        const { port, pid } = servers.get(way)!;
        const url = `http://10.77.0.1:${port}${PATH}`;
        const load0 = loadavg()[0]!;
        const cpu0 = cpuOf(pid, way === 'nginx');
        const t0 = process.hrtime.bigint();
        const got = await Promise.all(Array.from({ length: clients }, () => curl(url, false)));
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        const server = cpuOf(pid, way === 'nginx') - cpu0;
        const short = got.filter((g) => g.bytes !== size).length;
        if (short) throw new Error(`${way}: ${short} copies of the wrong size`);
        const clientCpu = got.reduce((a, g) => a + g.cpu, 0);
        runs.get(way)!.push({ s, server, clients: clientCpu });
        rows.push(`| ${r + 1} | ${way} | ${((clients * mb) / s).toFixed(0)} | ${(server / gib).toFixed(3)} | ${(clientCpu / gib).toFixed(3)} | ${((server + clientCpu) / gib).toFixed(3)} | ${load0.toFixed(2)} | ${loadavg()[0]!.toFixed(2)} |`);
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`\n${clients} parallel x ${mb} MiB over veth, curl to ${out}; ${rounds} rounds, order rotated\n`);
    console.log('| round | way | MiB/s | server CPU s/GiB | clients CPU s/GiB | total s/GiB | load before | load after |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    console.log('\n| way (medians) | MiB/s | / nginx | server CPU s/GiB | clients CPU s/GiB | total s/GiB |');
    console.log('|---|---|---|---|---|---|');
    const nginx = runs.get('nginx');
    for (const way of ways) {
      const xs = runs.get(way)!;
      const rate = (clients * mb) / med(xs.map((x) => x.s));
      const vs = nginx ? `${(med(nginx.map((x) => x.s)) / med(xs.map((x) => x.s))).toFixed(2)}x` : '';
      console.log(`| ${way} | ${rate.toFixed(0)} | ${vs} | ${med(xs.map((x) => x.server / gib)).toFixed(3)} | ${med(xs.map((x) => x.clients / gib)).toFixed(3)} | ${med(xs.map((x) => (x.server + x.clients) / gib)).toFixed(3)} |`);
    }
  } finally {
    for (const s of stops) await s();
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const [mode, way, dir, addr, port] = process.argv.slice(2);
if (mode === 'serve') await serve(way as Way, dir!, addr!, Number(port));
else await bench();
