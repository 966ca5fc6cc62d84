/**
 * HTTP boot benchmark: N parallel downloads of one 60 MB initramfs from netroot (`netroot serve
 * --config`: the boot route /boot/<mac>/<version>/initrd.img of a registered node) and from nginx
 * (sendfile on) serving the same file at the same path; curl in a client namespace over a veth
 * pair. Every copy is checked (size and sha256) after the clock stops.
 *
 *   npm run build && node dist/bench/http/run.js [--rounds 3] [--cases 100x60,1x60] [--servers netroot,nginx] [--settle SEC]
 *       [--out BASE] [--node-arg=--cpu-prof ...]
 *
 * --settle SEC: before each round, wait up to SEC seconds for the 1-minute load to fall below
 * 1.0 (the bench's own load lingers in it; run-all.sh passes 120).
 * Root; Debian packages nginx-light (or nginx), curl, iproute2. Copies go to /dev/shm (100 x 60 MB
 * = 6 GB at most at once, removed after each check). Writes BASE.md and BASE.json (default
 * bench/http/results/http-<time>). Bounded: each curl has a 600 s limit, counted as a failure.
 */
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT, benchNet, checkAll, intOption, listOption, makeRandomFile, meter, newResult, resultBase, runRounds, seedStore,
  serverIp, sleep, startIn, startNetroot, stopAll, waitForSocket, writeResult, type Expected, type Server,
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
  const out = await mkdtemp('/dev/shm/netroot-bench-http-');
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
    const fetch = async (s: Server, n: number) => {
      const copies = Array.from({ length: n }, (_, i) => ({ path: join(out, `c${i}`), want }));
      const t0 = process.hrtime.bigint();
      await Promise.all(copies.map((c) => net.cli.run(['curl', '-sS', '-f', '-o', c.path, `http://${s.address}:${PORT}${PATH}`], { timeoutMs: 600_000 }).catch(() => undefined)));
      return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, copies };
    };
    // Warm-up, not recorded: page cache and JIT alike for both.
    for (const s of servers) {
      const v = await checkAll((await fetch(s, 1)).copies);
      if (v.ok !== 1) throw new Error(`${s.name}: the warm-up download failed: ${v.failures.join('; ')}`);
    }
    for (const c of cases) {
      const n = Number(c.split('x')[0]);
      const label = `${n} parallel x 60 MB initramfs (curl)`;
      result.rounds.push(...(await runRounds(label, servers, rounds, async (s, round) => {
        await rm(out, { recursive: true, force: true });
        await mkdir(out);
        const m = await meter(s.proc.pid, s.group);
        const r = await fetch(s, n);
        await sleep(300);
        const used = await m.stop();
        const v = await checkAll(r.copies);
        result.samples.push({
          case: label, server: s.name, round, value: v.okBytes / MiB / r.seconds, ok: v.ok, total: v.total, failures: v.failures,
          cpuSec: used.cpuSec, cpuPerUnit: v.okBytes ? used.cpuSec / (v.okBytes / 1e9) : null, rssMaxMiB: used.rssMaxMiB,
          extra: { seconds: r.seconds, 'own process CPU s': used.ownCpuSec },
        });
        process.stderr.write(`bench:   ${s.name}: ${(v.okBytes / MiB / r.seconds).toFixed(0)} MiB/s, ${r.seconds.toFixed(2)} s, ${v.ok}/${v.total} verified, CPU ${used.cpuSec.toFixed(2)} s\n`);
        await rm(out, { recursive: true, force: true });
      }, { settleSec })));
    }
    result.notes.push(
      'Server namespace and client namespace joined by one veth pair; each server on its own address, port 8080, both running throughout.',
      'Every copy is checked for size and sha256 after the clock stops; MiB/s counts verified bytes only. CPU s/GB is the server\'s CPU group (nginx\'s master and workers, netroot\'s process and threads) per GB verified.',
      'netroot\'s store was filled before it started (node, image "bench", version 1 ready and active), as after an import and a pull; nginx serves a hard link of the same file.',
      'curl writes to /dev/shm: the clients\' cost is the same for both servers and shares the 2 CPUs with them.',
    );
  } finally {
    await stopAll(servers);
    await net.lab.destroy();
    await rm(dir, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
  const base = resultBase('http', REPO_ROOT);
  process.stdout.write(await writeResult(result, base));
  process.stderr.write(`bench: wrote ${base}.md and ${base}.json\n`);
}

await main();
