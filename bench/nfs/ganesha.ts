/**
 * Ganesha reload benchmark (not a test): real NFS-Ganesha in a network namespace (the test lab),
 * N state exports; time of a full apply (atomic write + SIGHUP + reload confirmed in the log) when
 * one node is added, and when N nodes arrive at once (bulk import). Run as root:
 * npm run build && node dist/bench/nfs/ganesha.js [nodes]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GaneshaBackend } from '../../exports/nfs/ganesha.js';
import { buildExportTable } from '../../exports/nfs/table.js';
import type { ExportNode } from '../../exports/nfs/types.js';
import { createGaneshaLab } from '../../test/integration/nfs/ganesha-lab.js';

const N = Math.min(Number(process.argv[2] ?? 1000), 20_000);
const lab = await createGaneshaLab({ precreateState: false });
try {
  const nodes: ExportNode[] = Array.from({ length: N + 1 }, (_, i) => {
    const k = i + 256;
    return { fqdn: `n${i}.bench`, ipv4: `10.53.${(k >> 8) & 255}.${k & 255}`, enabled: true, stateMode: 'nfs' };
  });
  for (const n of nodes) await mkdir(join(lab.stateDir, n.fqdn));
  const table = (ns: ExportNode[]) => buildExportTable({ imagesDir: lab.imagesDir, stateDir: lab.stateDir, nodeNetworks: ['10.53.0.0/16'], nodes: ns });
  const be = new GaneshaBackend({ filePath: lab.exportsFile, pidFile: lab.pidFile, logPath: lab.logFile, mainConfigPath: lab.mainConf, reloadTimeoutMs: 300_000 });
  await be.apply(table([]));
  await lab.startGanesha();
  const time = async (f: () => Promise<{ ok: boolean; error?: string }>) => {
    const t0 = process.hrtime.bigint();
    const r = await f();
    if (!r.ok) throw new Error(r.error);
    return Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
  };
  const bulkMs = await time(() => be.apply(table(nodes.slice(0, N))));
  const addOneMs = await time(() => be.apply(table(nodes)));
  const sameMs = await time(() => be.apply(table(nodes)));
  console.log(JSON.stringify({ nodes: N, bulkImportApplyMs: bulkMs, addOneApplyMs: addOneMs, unchangedApplyMs: sameMs }));
} finally {
  await lab.destroy();
}
