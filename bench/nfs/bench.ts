/**
 * Export-table benchmark (not a test): time to build and render the table for N nodes (pure), and
 * a full kernel-backend apply (atomic write + real `exportfs -ra` + etab readback) for N state
 * exports and the images tree (to N node addresses with rootExport "nodes", the default, or to one
 * network), in the mount-namespace sandbox the integration tests use (the machine's exports stay
 * untouched). Run as root: npm run build && node dist/bench/nfs/bench.js [nodes] [rounds] [nodes|networks]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderGaneshaExports } from '../../exports/nfs/ganesha-format.js';
import { KernelNfsBackend } from '../../exports/nfs/kernel.js';
import { renderKernelExports } from '../../exports/nfs/kernel-format.js';
import { buildExportTable } from '../../exports/nfs/table.js';
import type { ExportInput, RootExport } from '../../exports/nfs/types.js';
import { createExportfsSandbox } from '../../test/integration/nfs/sandbox.js';

const N = Math.min(Number(process.argv[2] ?? 1000), 60_000);
const ROUNDS = Math.min(Number(process.argv[3] ?? 5), 50);
const ROOT: RootExport = process.argv[4] === 'networks' ? 'networks' : 'nodes';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(f: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const dir = await mkdtemp(join(tmpdir(), 'nr-bench-nfs-'));
const sb = await createExportfsSandbox();
try {
  const input: ExportInput = {
    imagesDir: join(dir, 'images'), stateDir: join(dir, 'state'), rootExport: ROOT, nodeNetworks: ['10.0.0.0/8'],
    // Distinct host addresses stepping through 10.0.0.0/8 (k = 1, 2, ...).
    nodes: Array.from({ length: N }, (_, i) => {
      const k = i + 1;
      return { fqdn: `n${i}.bench`, ipv4: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`, enabled: true, stateMode: 'nfs' as const };
    }),
  };
  await mkdir(input.imagesDir);
  for (const n of input.nodes) await mkdir(join(input.stateDir, n.fqdn), { recursive: true });

  const build = [], kernel = [], ganesha = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = buildExportTable(input);
    build.push(await time(() => (t = buildExportTable(input))));
    kernel.push(await time(() => renderKernelExports(t)));
    ganesha.push(await time(() => renderGaneshaExports(t)));
  }
  const be = new KernelNfsBackend({ filePath: sb.filePath, etcExportsPath: sb.etcExportsPath, etabPath: sb.etabPath, runner: sb.runner, timeoutMs: 300_000 });
  const table = buildExportTable(input);
  const applies = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate two tables so every round really changes the file.
    const t = r % 2 ? { entries: table.entries.slice(0, -1) } : table;
    let ok = true;
    applies.push(await time(async () => { ok = (await be.apply(t)).ok; }));
    if (!ok) throw new Error(`apply ${r} failed`);
  }
  // What exportfs recorded: one etab line per (path, client) of the last table applied.
  const { readFile } = await import('node:fs/promises');
  const etabLines = (await readFile(sb.etabPath, 'utf8')).split('\n').filter(Boolean).length;
  const lastPairs = (ROUNDS - 1) % 2 ? table.entries.slice(0, -1).reduce((n, e) => n + e.clients.length, 0) : table.entries.reduce((n, e) => n + e.clients.length, 0);
  if (etabLines !== lastPairs) throw new Error(`etab has ${etabLines} lines, the table ${lastPairs} pairs`);
  const fileBytes = renderKernelExports(table).length;
  console.log(JSON.stringify({
    nodes: input.nodes.length, rootExport: ROOT, kernelFileBytes: fileBytes, etabLines,
    buildMs: +median(build).toFixed(2), renderKernelMs: +median(kernel).toFixed(2), renderGaneshaMs: +median(ganesha).toFixed(2),
    kernelApplyMs: +median(applies).toFixed(0), rounds: ROUNDS,
  }));
} finally {
  await sb.destroy();
  await rm(dir, { recursive: true, force: true });
}
