/**
 * HTTP boot benchmark: N parallel downloads of one 60 MB initramfs from netroot (`netroot serve
 * --config`: the boot route /boot/<mac>/<version>/initrd.img of a registered node) and from nginx
 * (sendfile on) serving the same file at the same path; curl in a client namespace over a veth
 * pair. Every copy is checked (size and sha256) as it arrives: curl's output goes straight into
 * sha256sum, and curl reports the size it received. Nothing is written to memory or disk: copies
 * written to /dev/shm made whichever server ran first in a round slower (on a VM with free page
 * reporting, a tmpfs page freed a minute earlier has gone back to the host and costs a fault to
 * get again; the second server of a round reused the pages the first had just freed).
 *
 *   npm run build && node dist/bench/http/run.js [--rounds 3] [--cases 100x60,1x60] [--servers netroot,nginx] [--settle SEC]
 *       [--out BASE] [--node-arg=--cpu-prof ...]
 *
 * --settle SEC: before each round, wait up to SEC seconds for the 1-minute load to fall below
 * 1.0 (the bench's own load lingers in it; run-all.sh passes 120).
 * Root; Debian packages nginx-light (or nginx), curl, coreutils, iproute2. Writes BASE.md and BASE.json (default
 * bench/http/results/http-<time>). Bounded: each curl has a 600 s limit, counted as a failure.
 */
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT, benchNet, compareDownload, intOption, listOption, makeRandomFile, meter, newResult, resultBase, runRounds, seedStore,
  serverIp, sleep, startIn, startNetroot, stopAll, tally, waitForSocket, writeResult, type Expected, type Server,
} from '../lib/index.js';

const MiB = 2 ** 20;
const MAC = '02:0c:51:00:00:01';
const PORT = 8080;
const PATH = `/boot/${MAC}/1/initrd.img`;
const SERVERS = ['netroot', 'nginx'];
const CASES = ['100x60', '1x60'];
const settleSec = intOption('settle', 0, 0, 600);
const rounds = intOption('rounds', 3, 1, 20);
const wanted = listOption('servers', SERVERS, SERVERS);
const cases = listOption('cases', CASES, CASES);
const nodeArgs = process.argv.filter((x) => x.startsWith('--node-arg=')).map((x) => x.slice('--node-arg='.length));

const nginxConf = (base: string, root: string, address: string) => `daemon off; user root; worker_processes auto; error_log stderr; pid ${base}/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${base}/tmp; proxy_temp_path ${base}/tmp; fastcgi_temp_path ${base}/tmp; uwsgi_temp_path ${base}/tmp; scgi_temp_path ${base}/tmp;
  server { listen ${address}:${PORT}; location = ${PATH} { alias ${root}/initramfs.img; } } }
`;

async function main() {
  const result = newResult('http', 'MiB/s', 'CPU s/GB');
  const dir = await mkdtemp(join(tmpdir(), 'netroot-bench-http-'));
  const net = await benchNet('bhttp', SERVERS.length);
  const servers: Server[] = [];
  try {
    // netroot's data dir as after an import and a pull: node MAC with image "bench", version 1 active.
    const dataDir = join(dir, 'netroot-data');
    const { bootDir } = await seedStore(dataDir, { nodes: [{ mac: MAC, ipv4: '10.89.0.100', fqdn: 'n1.bench.example' }] });
    const want: Expected = await makeRandomFile(join(bootDir, 'initramfs.img'), 60 * MiB);
    await makeRandomFile(join(bootDir, 'vmlinuz'), 8 * MiB);
    for (const [i, name] of SERVERS.entries()) {
      if (!wanted.includes(name)) continue;
      const address = serverIp(i);
      if (name === 'netroot') {
        const config = { dataDir, http: { listen: address, port: PORT }, tftp: { enabled: false }, nfs: { backend: 'none' } };
        const r = await startNetroot(net.srv, join(dir, 'netroot'), config, nodeArgs);
        servers.push({ name, address, proc: r.proc, group: r.group, how: r.how });
      } else {
        // nginx serves the very same file (a hard link) at the same path.
        const base = join(dir, 'nginx');
        await mkdir(join(base, 'tmp'), { recursive: true });
        await link(join(bootDir, 'initramfs.img'), join(base, 'initramfs.img'));
        const conf = nginxConf(base, base, address);
        await writeFile(join(base, 'nginx.conf'), conf);
        const argv = ['nginx', '-c', join(base, 'nginx.conf'), '-p', base];
        servers.push({ name, address, ...(await startIn(net.srv, name, argv)), how: `ip netns exec <server ns> ${argv.join(' ')}\n\nnginx.conf:\n${conf}` });
      }
      await waitForSocket(net.srv, 'tcp', address, PORT, servers.at(-1)!);
    }
    result.setup = servers.map((s) => ({ server: s.name, how: s.how }));
    // One client: curl into sha256sum; curl writes the size it received on stderr.
    const script = 'set -o pipefail; curl -sS -f --max-time 600 -w "%{stderr}%{size_download}\\n" "$0" | sha256sum';
    const download = async (url: string) => {
      try {
        const r = await net.cli.run(['bash', '-c', script, url], { timeoutMs: 620_000 });
        return { size: Number(r.stderr.trim().split('\n').at(-1)), sha256: r.stdout.split(' ')[0] ?? '' };
      } catch {
        return null;
      }
    };
    const fetch = async (s: Server, n: number) => {
      const url = `http://${s.address}:${PORT}${PATH}`;
      const t0 = process.hrtime.bigint();
      const got = await Promise.all(Array.from({ length: n }, () => download(url)));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      return { seconds, verified: tally(got.map((g, i) => ({ label: `copy ${i}`, size: want.size, why: compareDownload(g, want) }))) };
    };
    // Warm-up, not recorded: page cache and JIT alike for both.
    for (const s of servers) {
      const v = (await fetch(s, 1)).verified;
      if (v.ok !== 1) throw new Error(`${s.name}: the warm-up download failed: ${v.failures.join('; ')}`);
    }
    for (const c of cases) {
      const n = Number(c.split('x')[0]);
      const label = `${n} parallel x 60 MB initramfs (curl)`;
      result.rounds.push(...(await runRounds(label, servers, rounds, async (s, round) => {
        const m = await meter(s.proc.pid, s.group);
        const r = await fetch(s, n);
        await sleep(300);
        const used = await m.stop();
        const v = r.verified;
        result.samples.push({
          case: label, server: s.name, round, value: v.okBytes / MiB / r.seconds, ok: v.ok, total: v.total, failures: v.failures,
          cpuSec: used.cpuSec, cpuPerUnit: v.okBytes ? used.cpuSec / (v.okBytes / 1e9) : null, rssMaxMiB: used.rssMaxMiB,
          extra: { seconds: r.seconds, 'own process CPU s': used.ownCpuSec },
        });
        process.stderr.write(`bench:   ${s.name}: ${(v.okBytes / MiB / r.seconds).toFixed(0)} MiB/s, ${r.seconds.toFixed(2)} s, ${v.ok}/${v.total} verified, CPU ${used.cpuSec.toFixed(2)} s\n`);
      }, { settleSec })));
    }
    result.notes.push(
      'Server namespace and client namespace joined by one veth pair; each server on its own address, port 8080, both running throughout.',
      'Every copy is checked for size and sha256 as it arrives (curl piped into sha256sum, curl reporting the size received); MiB/s counts verified bytes only. CPU s/GB is the server\'s CPU group (nginx\'s master and workers, netroot\'s process and threads) per GB verified.',
      'netroot\'s store was filled before it started (node, image "bench", version 1 ready and active), as after an import and a pull; nginx serves a hard link of the same file.',
      'Each client is curl piped into sha256sum, nothing stored: the clients\' cost (the hashing included) is the same for both servers and shares the 2 CPUs with them.',
    );
  } finally {
    await stopAll(servers);
    await net.lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  const base = resultBase('http', REPO_ROOT);
  process.stdout.write(await writeResult(result, base));
  process.stderr.write(`bench: wrote ${base}.md and ${base}.json\n`);
}

await main();
