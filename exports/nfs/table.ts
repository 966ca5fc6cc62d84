/**
 * The export table, rendered from the registry by a pure function (seed: "Setup nfs server"):
 * the images tree read-only to every registered node's address (or, as an explicit setting, to
 * whole node networks), and each diskless node's `state/<fqdn>` read-write to that node's address
 * only, so no node can mount another's state.
 *
 * Why the whole images tree per node address, not each version to the nodes that may boot it: a
 * node keeps running the version it booted after a publish, rollback or unpin, and only the
 * version it runs (not the one it would boot next) must stay mountable; the table does not know
 * that. Every registered node may read every image, which it could anyway by registering with
 * another image; an unregistered host on the node network gets nothing.
 */
import { ExportInputError } from './errors.js';
import type { ExportEntry, ExportInput, ExportTable } from './types.js';
import {
  isSameOrUnder, networkSortKey, validateExportPath, validateFqdn, validateIPv4, validateNetwork, validateOptions,
} from './validate.js';

/** async is safe for a tree nodes only read; no_root_squash because the root image is root-owned. */
export const DEFAULT_ROOT_OPTIONS: readonly string[] = ['ro', 'no_root_squash', 'async', 'no_subtree_check'];
/** sync for state: a node's logs and state must survive a server crash once acknowledged. */
export const DEFAULT_STATE_OPTIONS: readonly string[] = ['rw', 'no_root_squash', 'sync', 'no_subtree_check'];

/** Addresses/CIDRs in numeric order, each key computed once (10,000 node addresses). */
function sortNetworks(list: readonly string[]): string[] {
  return list
    .map((n) => ({ n, k: networkSortKey(n) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1])
    .map((x) => x.n);
}

/** Throws ExportInputError naming the field for anything that would break or widen the exports. */
export function buildExportTable(input: ExportInput): ExportTable {
  const imagesDir = validateExportPath(input.imagesDir, 'imagesDir');
  const stateDir = validateExportPath(input.stateDir, 'stateDir');
  // Either tree inside the other would let the read-only export show every node's state, or the
  // state exports hand out write access to images.
  if (isSameOrUnder(stateDir, imagesDir)) throw new ExportInputError('stateDir', `must not be inside imagesDir (${imagesDir})`);
  if (isSameOrUnder(imagesDir, stateDir)) throw new ExportInputError('imagesDir', `must not be inside stateDir (${stateDir})`);

  const root = validateOptions(input.rootOptions ?? DEFAULT_ROOT_OPTIONS, 'rootOptions');
  const state = validateOptions(input.stateOptions ?? DEFAULT_STATE_OPTIONS, 'stateOptions');
  if (!Array.isArray(input.nodeNetworks)) throw new ExportInputError('nodeNetworks', 'not a list');
  const networks = sortNetworks([...new Set(input.nodeNetworks.map((n, i) => validateNetwork(n, `nodeNetworks[${i}]`)))]);

  const rootExport = input.rootExport ?? 'nodes';
  if (rootExport !== 'nodes' && rootExport !== 'networks') throw new ExportInputError('rootExport', `must be 'nodes' or 'networks', got ${JSON.stringify(rootExport)}`);

  const byIp = new Map<string, string>();
  const byFqdn = new Set<string>();
  const stateEntries: ExportEntry[] = [];
  for (const [i, node] of input.nodes.entries()) {
    const fqdn = validateFqdn(node.fqdn, `nodes[${i}].fqdn`);
    const ip = validateIPv4(node.ipv4, `nodes[${i}].ipv4`);
    if (node.stateMode !== 'nfs' && node.stateMode !== 'local') {
      throw new ExportInputError(`nodes[${i}].stateMode`, `must be 'nfs' or 'local', got ${JSON.stringify(node.stateMode)}`);
    }
    if (byFqdn.has(fqdn)) throw new ExportInputError(`nodes[${i}].fqdn`, `${fqdn} is listed twice`);
    byFqdn.add(fqdn);
    const other = byIp.get(ip);
    // Two nodes on one address would each be able to mount the other's state.
    if (other !== undefined) throw new ExportInputError(`nodes[${i}].ipv4`, `${ip} is also the address of ${other}`);
    byIp.set(ip, fqdn);
    if (!node.enabled || node.stateMode !== 'nfs') continue;
    stateEntries.push({
      kind: 'state',
      path: `${stateDir}/${fqdn}`,
      fqdn,
      clients: [{ host: ip, access: state.access, options: state.options }],
    });
  }
  stateEntries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // Disabled and local-state nodes included: disabling stops new boots, not a running root.
  const rootClients = rootExport === 'networks' ? networks : sortNetworks([...byIp.keys()]);
  const entries: ExportEntry[] = [];
  // No client, no line: an exports(5) line without clients is exported to the world.
  if (rootClients.length > 0) {
    entries.push({
      kind: 'images',
      path: imagesDir,
      clients: rootClients.map((host) => ({ host, access: root.access, options: root.options })),
    });
  }
  entries.push(...stateEntries);
  return { entries };
}

/** The key of one (path, client) pair: what the reconciler, diffs and readback compare. */
export function pairKey(path: string, host: string): string {
  return `${path} ${host}`;
}

/** One (path, client) pair per line, the unit both diffs and readback compare. */
export function flattenTable(table: ExportTable): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of table.entries) for (const c of e.clients) out.set(pairKey(e.path, c.host), c.options.join(','));
  return out;
}

/** The pairs of exports read back from a file (either backend's parser output). */
export function exportPairs(entries: readonly { path: string; clients: readonly { host: string }[] }[]): Set<string> {
  const out = new Set<string>();
  for (const e of entries) for (const c of e.clients) out.add(pairKey(e.path, c.host));
  return out;
}

export interface TableDiff {
  added: string[];
  removed: string[];
  changed: { key: string; from: string; to: string }[];
}

/** What applying `next` over `prev` would add, remove or change, per (path, client). */
export function diffTables(prev: ExportTable, next: ExportTable): TableDiff {
  const a = flattenTable(prev);
  const b = flattenTable(next);
  const added = [...b.keys()].filter((k) => !a.has(k)).sort();
  const removed = [...a.keys()].filter((k) => !b.has(k)).sort();
  const changed = [...b.entries()]
    .filter(([k, v]) => a.has(k) && a.get(k) !== v)
    .map(([key, to]) => ({ key, from: a.get(key)!, to }))
    .sort((x, y) => (x.key < y.key ? -1 : 1));
  return { added, removed, changed };
}
