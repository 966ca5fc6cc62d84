/**
 * After a restart has settled: do registry, state directories, export table and exportfs's etab
 * agree? The expected table is rendered here from the registry as the API lists it, with
 * netroot's own pure renderer, and compared with the file byte for byte (a half-written or stale
 * file differs), then pair by pair with what exportfs recorded.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { buildExportTable, exportPairs, flattenTable } from '../../exports/nfs/table.js';
import { parseEtab, parseExportsFile, renderKernelExports } from '../../exports/nfs/kernel-format.js';
import type { ExportNode } from '../../exports/nfs/types.js';
import { minus, some, type Tally } from './checks.js';
import type { Lab } from './lab.js';

export interface RegistryNode extends ExportNode {
  mac: string;
}

/** Every node the registry holds, page by page. */
export async function registryNodes(lab: Lab): Promise<RegistryNode[]> {
  const out: RegistryNode[] = [];
  for (let offset = 0; ; offset += 10_000) {
    const r = await lab.api('GET', `/nodes?limit=10000&offset=${offset}`);
    if (r.status !== 200) throw new Error(`GET /nodes: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    out.push(...(r.body.items as RegistryNode[]).map((n) => ({ mac: n.mac, fqdn: n.fqdn, ipv4: n.ipv4, enabled: n.enabled, stateMode: n.stateMode })));
    if (out.length >= r.body.total || r.body.items.length === 0) return out;
  }
}

export interface NfsView {
  nodes: RegistryNode[];
  stateNames: string[];
}

/** The checks every NFS phase makes after a restart; returns what it read for phase checks. */
export async function checkNfsAgrees(lab: Lab, t: Tally, nodeNetworks: string[]): Promise<NfsView> {
  const nodes = await registryNodes(lab);
  const stateDir = join(lab.dataDir, 'state');
  const imagesDir = join(lab.dataDir, 'images');

  // State directories: one per node whose state is on NFS, none for anything else, none half-made.
  const entries = existsSync(stateDir) ? await readdir(stateDir, { withFileTypes: true }) : [];
  const stateNames = entries.filter((e) => !e.name.startsWith('.')).map((e) => e.name);
  const dirs = new Set(entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name));
  const wanted = nodes.filter((n) => n.stateMode === 'nfs');
  const noDir = wanted.filter((n) => !dirs.has(n.fqdn)).map((n) => n.fqdn);
  t.check('every node has its state directory', noDir.length === 0, () => `missing ${some(noDir)}`);
  const incomplete = wanted.filter((n) => dirs.has(n.fqdn) && !existsSync(join(stateDir, n.fqdn, 'var/log'))).map((n) => n.fqdn);
  t.check('state directories complete (var/log made)', incomplete.length === 0, () => `incomplete ${some(incomplete)}`);
  const fqdns = new Set(nodes.map((n) => n.fqdn));
  const orphans = minus(stateNames, fqdns);
  t.check('no state directory without a node', orphans.length === 0, () => `orphans ${some(orphans)}`);
  const temps = entries.filter((e) => e.name.startsWith('.') && e.name !== '.archive').map((e) => e.name);
  t.check('no half-made state directory (.new.*)', temps.length === 0, () => `left ${some(temps)}`);

  // The export table: exactly what the registry renders, applied as written.
  const expected = renderKernelExports(buildExportTable({ imagesDir, stateDir, rootExport: 'nodes', nodeNetworks, nodes }));
  const file = await readFile(lab.sandbox.filePath, 'utf8').catch(() => null);
  const filePairs = exportPairs(parseExportsFile(file ?? ''));
  const wantPairs = new Set(flattenTable(buildExportTable({ imagesDir, stateDir, rootExport: 'nodes', nodeNetworks, nodes })).keys());
  t.check('exports file = the registry rendered (byte for byte)', file === expected, () =>
    file === null ? 'no exports file' : `missing ${some(minus(wantPairs, filePairs))}; extra ${some(minus(filePairs, wantPairs))}; ${file.length} bytes vs ${expected.length} expected`);
  const etab = parseEtab(await readFile(lab.sandbox.etabPath, 'utf8'));
  const etabOpts = new Map(etab.map((e) => [`${e.path} ${e.host}`, e.options]));
  const fileOpts = new Map<string, string[]>();
  for (const e of parseExportsFile(file ?? '')) for (const c of e.clients) fileOpts.set(`${e.path} ${c.host}`, c.options);
  const etabPairs = new Set(etabOpts.keys());
  const notApplied = minus(filePairs, etabPairs);
  const stale = minus(etabPairs, filePairs);
  const wrongOpts = [...fileOpts].filter(([k, o]) => etabOpts.has(k) && o.some((x) => !etabOpts.get(k)!.includes(x))).map(([k]) => k);
  t.check("exportfs's etab = the exports file", notApplied.length + stale.length + wrongOpts.length === 0, () =>
    `in the file, not in etab ${some(notApplied)}; in etab, not in the file ${some(stale)}; other options ${some(wrongOpts)}`);
  const beside = (await readdir(dirname(lab.sandbox.filePath))).filter((n) => n !== basename(lab.sandbox.filePath));
  t.check('no temp or half-written file beside the exports file', beside.length === 0, () => `found ${some(beside)}`);

  // What netroot itself says.
  const ex = (await lab.api('GET', '/exports')).body;
  t.check('reconciler: nothing lacking, no orphan', ex.reconcile.now.lackingTotal === 0 && ex.reconcile.now.orphansTotal === 0 && !ex.reconcile.now.error, () =>
    JSON.stringify({ lacking: ex.reconcile.now.lacking.slice(0, 3), lackingTotal: ex.reconcile.now.lackingTotal, orphans: ex.reconcile.now.orphans.slice(0, 3), error: ex.reconcile.now.error }));
  t.check('last apply ok', ex.lastApply?.ok === true, () => JSON.stringify(ex.lastApply).slice(0, 500));
  const h = (await lab.nr!.api('GET', '/health', undefined, null)).body;
  t.check('/health: nfs ok', h.subsystems?.nfs?.status === 'ok', () => JSON.stringify(h.subsystems?.nfs));
  return { nodes, stateNames };
}
