/**
 * Ganesha reload benchmark (not a test): real NFS-Ganesha in a network namespace (the test lab),
 * N state exports and the images tree (to N node addresses with rootExport "nodes", the default,
 * or to the lab network); time of a full apply (atomic write + SIGHUP + reload confirmed in the
 * log) when one node is added, and when N nodes arrive at once (bulk import); then node A, one of
 * the N, reads the root over NFS. Run as root:
 * npm run build && node dist/bench/nfs/ganesha.js [nodes] [nodes|networks] [nfs|local]
 * (local: nodes keep their state on disk, so the images export's client list is all there is).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GaneshaBackend } from '../../exports/nfs/ganesha.js';
import { buildExportTable } from '../../exports/nfs/table.js';
import type { ExportNode, RootExport } from '../../exports/nfs/types.js';
import { createGaneshaLab, NODE_A } from '../../test/integration/nfs/ganesha-lab.js';

const N = Math.min(Number(process.argv[2] ?? 1000), 20_000);
const ROOT: RootExport = process.argv[3] === 'networks' ? 'networks' : 'nodes';
const STATE = process.argv[4] === 'local' ? 'local' : 'nfs';
const lab = await createGaneshaLab({ precreateState: false });
try {
  // Node A of the lab (10.53.1.5) is n5: it must be able to read the root at the end.
  const nodes: ExportNode[] = Array.from({ length: N + 1 }, (_, i) => {
    const k = i + 256;
    return { fqdn: `n${i}.bench`, ipv4: `10.53.${(k >> 8) & 255}.${k & 255}`, enabled: true, stateMode: STATE };
  });
  if (nodes[5]!.ipv4 !== NODE_A.ipv4) throw new Error('node A is not n5');
  for (const n of nodes) await mkdir(join(lab.stateDir, n.fqdn));
  const table = (ns: ExportNode[]) => buildExportTable({ imagesDir: lab.imagesDir, stateDir: lab.stateDir, rootExport: ROOT, nodeNetworks: ['10.53.0.0/16'], nodes: ns });
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
  const read = await lab.nfs(lab.a, ['nfs-ls', lab.url(`${lab.imagesDir}/debian/1/root/etc`)]);
  if (read.code !== 0) throw new Error(`node A cannot read the root: ${read.out}`);
  console.log(JSON.stringify({ nodes: N, rootExport: ROOT, stateMode: STATE, bulkImportApplyMs: bulkMs, addOneApplyMs: addOneMs, unchangedApplyMs: sameMs }));
} finally {
  await lab.destroy();
}
