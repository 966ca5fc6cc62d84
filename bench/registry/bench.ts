/**
 * Registry benchmark (not a test): import 10,000 nodes in one request (the answer comes once the
 * transaction is committed), the time until the reconciler has made every node's state directory
 * (checked on disk), then p50/p99 latency of GET one node and of a filtered list, sequential
 * requests over one keep-alive connection, and the service's RSS.
 * Run: npm run build && node dist/bench/registry/bench.js [nodes] [requests]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startNetroot } from '../../test/helpers/service.js';

const N = Number(process.argv[2] ?? 10_000);
const R = Number(process.argv[3] ?? 2_000);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

async function timed(n: number, f: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await f(i);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

const nr = await startNetroot({ config: { log: { level: 'info' } } });
try {
  // `ip netns exec` is not involved: proc.pid is netroot itself.
  const pid = nr.proc.pid;
  const rss0 = rssMiB(pid);
  await nr.api('POST', '/images', { name: 'centos' });
  await nr.api('POST', '/images', { name: 'debian' });
  const nodes = Array.from({ length: N }, (_, i) => ({
    mac: `52:54:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`,
    fqdn: `n${i}.rack${i % 40}.lab.example`,
    ipv4: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${(i & 255) || 254}`,
    image: i % 4 === 0 ? 'debian' : 'centos',
  }));
  // Make IPs unique when i&255 == 0 collides with 254 of the same /24.
  for (const [i, n] of nodes.entries()) if ((i & 255) === 0) n.ipv4 = `10.${200 + (i >> 16)}.${(i >> 8) & 255}.1`;
  const t0 = Date.now();
  const imp = await nr.api('POST', '/nodes/import', nodes);
  const importMs = Date.now() - t0;
  if (imp.status !== 201) throw new Error(`import failed: ${JSON.stringify(imp.body).slice(0, 300)}`);
  // Each look compares all N nodes with the disk: not too often, or the looking is what is measured.
  for (;;) {
    await new Promise((res) => setTimeout(res, 500));
    const r = await nr.api('GET', '/exports');
    if (!r.body.reconcile.pending && r.body.reconcile.now.lackingTotal === 0) break;
  }
  const stateDirsMs = Date.now() - t0;
  const dirs = readdirSync(join(nr.dataDir, 'state')).filter((n) => !n.startsWith('.')).length;
  if (dirs !== N) throw new Error(`${dirs} state directories for ${N} nodes`);
  const getOne = await timed(R, async (i) => {
    const r = await nr.api('GET', `/nodes/${nodes[(i * 7919) % N]!.mac}`);
    if (r.status !== 200) throw new Error(`GET ${r.status}`);
  });
  const health = await timed(20, async () => {
    const r = await nr.api('GET', '/health', undefined, null);
    if (r.body.subsystems.nfs.missing !== 0) throw new Error(`health: ${JSON.stringify(r.body.subsystems.nfs)}`);
  });
  const list = await timed(Math.max(50, R / 10), async (i) => {
    const r = await nr.api('GET', `/nodes?image=debian&search=rack${i % 40}.&limit=100`);
    if (r.status !== 200) throw new Error(`list ${r.status}`);
  });
  const res = {
    nodes: N,
    importMs,
    stateDirsMs,
    getOne: { n: getOne.length, p50: +pct(getOne, 50).toFixed(2), p99: +pct(getOne, 99).toFixed(2) },
    health: { n: health.length, p50: +pct(health, 50).toFixed(2) },
    listFiltered: { n: list.length, p50: +pct(list, 50).toFixed(2), p99: +pct(list, 99).toFixed(2) },
    rssMiB: { idle: rss0, after: rssMiB(pid) },
  };
  console.log(JSON.stringify(res, null, 2));
} finally {
  await nr.stop();
  removeDir(nr.dataDir);
}
