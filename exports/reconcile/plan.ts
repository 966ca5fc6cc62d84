/**
 * The NFS side compared three ways, as a pure function: the registry (its nodes and the export
 * table it renders), the entries of the state directory, and the pairs of the export table
 * netroot last wrote. The reconciler reads the three, acts on the plan (creates what is missing,
 * applies the table), then compares again: what is still lacking is what it reports.
 */
import { pairKey } from '../nfs/table.js';
import type { ExportNode, ExportTable } from '../nfs/types.js';
import type { StateEntryKind } from '../state/dirs.js';

export interface ReconcileView {
  nodes: readonly ExportNode[];
  /** The table the registry renders now; null when the registry cannot be rendered (input error). */
  wanted: ExportTable | null;
  /** Entries directly below the state dir (dot-names such as .archive left out). */
  entries: ReadonlyMap<string, StateEntryKind>;
  /** `path host` pairs in the table netroot last wrote; null: no backend, nothing to compare. */
  exported: ReadonlySet<string> | null;
}

/** stateDir: no directory at state/<fqdn>; stateExport / rootExport: a pair of the wanted table
 * that the written table lacks (its state directory, or the images tree for its address). */
export type Lack = 'stateDir' | 'stateExport' | 'rootExport';

export interface NodeLack {
  fqdn: string;
  ipv4: string;
  lacks: Lack[];
  /** Something that is not a plain directory sits at state/<fqdn>: never touched, only reported. */
  blocked: boolean;
}

export interface ReconcilePlan {
  /** FQDNs of nodes with nothing at state/<fqdn>: create their directory. */
  create: string[];
  /** Every node lacking something, in FQDN order. */
  lacking: NodeLack[];
  /** Missing pairs that belong to no node (the images tree exported network-wide). */
  otherMissing: string[];
  /** Plain directories below the state dir that no registered node owns (the reconciler archives
   * those it finds at start). */
  orphans: string[];
}

/** A node keeps a state directory when its state lives on NFS, enabled or not (disabling a node
 * stops its boots and its export, never its data). */
export function needsStateDir(n: ExportNode): boolean {
  return n.stateMode === 'nfs';
}

export function planReconcile(view: ReconcileView): ReconcilePlan {
  const byFqdn = new Map(view.nodes.map((n) => [n.fqdn, n]));
  const byIp = new Map(view.nodes.map((n) => [n.ipv4, n]));
  const lacks = new Map<string, Set<Lack>>();
  const add = (fqdn: string, l: Lack) => {
    let s = lacks.get(fqdn);
    if (!s) lacks.set(fqdn, (s = new Set()));
    s.add(l);
  };

  const create: string[] = [];
  const blocked = new Set<string>();
  for (const n of view.nodes) {
    if (!needsStateDir(n)) continue;
    const kind = view.entries.get(n.fqdn);
    if (kind === 'dir') continue;
    add(n.fqdn, 'stateDir');
    if (kind === undefined) create.push(n.fqdn);
    else blocked.add(n.fqdn);
  }

  const otherMissing: string[] = [];
  if (view.wanted && view.exported) {
    for (const e of view.wanted.entries) {
      for (const c of e.clients) {
        const key = pairKey(e.path, c.host);
        if (view.exported.has(key)) continue;
        // A state export names its node; an images-tree client is a node when it is one's address.
        const owner = e.kind === 'state' ? (e.fqdn !== undefined ? byFqdn.get(e.fqdn) : undefined) : byIp.get(c.host);
        if (owner) add(owner.fqdn, e.kind === 'state' ? 'stateExport' : 'rootExport');
        else otherMissing.push(key);
      }
    }
  }

  const order: Lack[] = ['stateDir', 'stateExport', 'rootExport'];
  const lacking = [...lacks.entries()]
    .map(([fqdn, s]) => ({ fqdn, ipv4: byFqdn.get(fqdn)!.ipv4, lacks: order.filter((l) => s.has(l)), blocked: blocked.has(fqdn) }))
    .sort((a, b) => (a.fqdn < b.fqdn ? -1 : a.fqdn > b.fqdn ? 1 : 0));
  const orphans = [...view.entries].filter(([name, kind]) => kind === 'dir' && !byFqdn.has(name)).map(([name]) => name).sort();
  return { create: create.sort(), lacking, otherMissing: otherMissing.sort(), orphans };
}
