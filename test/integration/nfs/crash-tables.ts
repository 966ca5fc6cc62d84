/** The two tables the kill -9 test alternates between (shared by the test and its child). */
import { buildExportTable } from '../../../exports/nfs/table.js';
import type { ExportTable } from '../../../exports/nfs/types.js';

export function crashTables(dir: string): [ExportTable, ExportTable] {
  const base = { imagesDir: `${dir}/images`, stateDir: `${dir}/state`, nodeNetworks: ['10.53.0.0/16'] };
  const nodes = Array.from({ length: 200 }, (_, i) => ({ fqdn: `n${i}.crash.test`, ipv4: `10.53.1.${i + 1}`, enabled: true, stateMode: 'nfs' as const }));
  return [
    buildExportTable({ ...base, nodes: nodes.slice(0, 150) }),
    buildExportTable({ ...base, nodes: nodes.slice(50) }),
  ];
}
