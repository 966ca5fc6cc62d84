/**
 * The table as NFS-Ganesha EXPORT blocks (ganesha-export-config(8)), in a file the main
 * ganesha.conf pulls in with `%include`. Pure.
 *
 * Export_Id must stay the same for a path across reloads: on SIGHUP Ganesha matches exports by id
 * and refuses to change an id's Path ("Path for export update N ... doesn't match"). So ids already
 * in the file on disk are kept, and new paths take the lowest id that no export in that file used
 * (a freed id is not reused in the same reload, for the same reason).
 */
import type { ExportEntry, ExportTable } from './types.js';

export const GANESHA_HEADER = [
  '# Managed by netroot: rendered from its node registry and rewritten on every apply.',
  '# Do not edit; changes here are lost.',
  '# The main ganesha.conf must %include this file and set, for an NFS root:',
  '#   NFSV4 { Only_Numeric_Owners = true; }  (owner-name mapping deadlocks the boot: the idmap',
  '#   helper lives on the NFS root itself) and NFS_CORE_PARAM { Protocols = 4; } (no rpcbind).',
];

const MAX_EXPORT_ID = 65535;
export const CLIENTS_PER_BLOCK = 16;

/** Squash/anonymous-id options carry over from exports(5); sync/async and subtree checks have no
 * Ganesha equivalent and are left out. */
function permissionLines(options: readonly string[]): string[] {
  let squash = 'Root_Squash'; // exports(5) default
  const out: string[] = [];
  for (const o of options) {
    const [k, v] = o.split('=');
    if (k === 'no_root_squash') squash = 'No_Root_Squash';
    else if (k === 'root_squash') squash = 'Root_Squash';
    else if (k === 'all_squash') squash = 'All_Squash';
    else if (k === 'anonuid' && v) out.push(`Anonymous_Uid = ${Number(v)};`);
    else if (k === 'anongid' && v) out.push(`Anonymous_Gid = ${Number(v)};`);
  }
  return [`Squash = ${squash};`, ...out];
}

export function assignExportIds(entries: readonly ExportEntry[], previous: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const reserved = new Set(previous.values());
  const ids = new Map<string, number>();
  let next = 1;
  for (const e of entries) {
    const kept = previous.get(e.path);
    if (kept !== undefined) {
      ids.set(e.path, kept);
      continue;
    }
    while (reserved.has(next)) next++;
    if (next > MAX_EXPORT_ID) throw new RangeError('ganesha: out of Export_Id values (max 65535)');
    ids.set(e.path, next);
    reserved.add(next);
  }
  return ids;
}

export function renderGaneshaExports(table: ExportTable, previousIds?: ReadonlyMap<string, number>): string {
  const ids = assignExportIds(table.entries, previousIds);
  const lines = [...GANESHA_HEADER];
  for (const e of table.entries) {
    const first = e.clients[0];
    lines.push('');
    lines.push(`# ${e.kind === 'images' ? 'images (read-only root trees)' : `state of ${e.fqdn ?? '?'}`}`);
    lines.push('EXPORT {');
    lines.push(`\tExport_Id = ${ids.get(e.path)!};`);
    lines.push(`\tPath = "${e.path}";`);
    // Pseudo = Path: nodes mount the same path from Ganesha (NFSv4 pseudo fs) as from kernel nfsd.
    lines.push(`\tPseudo = "${e.path}";`);
    lines.push('\tProtocols = 4;');
    lines.push('\tTransports = TCP;');
    lines.push('\tSecType = sys;');
    // Clients that match no CLIENT block get nothing.
    lines.push('\tAccess_Type = None;');
    for (const l of permissionLines(first?.options ?? [])) lines.push(`\t${l}`);
    lines.push('\tFSAL { Name = VFS; }');
    // Several addresses per CLIENT block (the images export lists every node: 10,000 blocks of
    // one would be 10,000 lines and as many list entries to parse).
    for (let i = 0; i < e.clients.length; ) {
      const access = e.clients[i]!.access;
      let j = i;
      while (j < e.clients.length && j - i < CLIENTS_PER_BLOCK && e.clients[j]!.access === access) j++;
      const hosts = e.clients.slice(i, j).map((c) => c.host).join(', ');
      // Protocols repeated here: without it Ganesha warns on every reload and "fixes up" the block.
      lines.push(`\tCLIENT { Clients = ${hosts}; Access_Type = ${access.toUpperCase()}; Protocols = 4; }`);
      i = j;
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

/** Path -> Export_Id of every EXPORT block in a file netroot rendered. */
export function parseGaneshaExportIds(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const blocks = text.split(/^EXPORT\s*\{/m).slice(1);
  for (const b of blocks) {
    const id = /^\s*Export_Id\s*=\s*(\d+)\s*;/m.exec(b);
    const path = /^\s*Path\s*=\s*"([^"]*)"\s*;/m.exec(b);
    if (id && path) out.set(path[1]!, Number(id[1]));
  }
  return out;
}

/** Path and client list of every EXPORT block in a file netroot rendered (the reconciler's view
 * of what is exported). `Clients` may list several addresses, comma-separated. */
export function parseGaneshaExports(text: string): { path: string; clients: { host: string }[] }[] {
  const out: { path: string; clients: { host: string }[] }[] = [];
  for (const b of text.split(/^EXPORT\s*\{/m).slice(1)) {
    const path = /^\s*Path\s*=\s*"([^"]*)"\s*;/m.exec(b);
    if (!path) continue;
    const clients: { host: string }[] = [];
    for (const m of b.matchAll(/CLIENT\s*\{\s*Clients\s*=\s*([^;]*);/g)) {
      for (const h of m[1]!.split(',')) if (h.trim()) clients.push({ host: h.trim() });
    }
    out.push({ path: path[1]!, clients });
  }
  return out;
}

export interface GaneshaMainConfigOptions {
  /** The file netroot renders (the EXPORT blocks). */
  includePath: string;
  /** Skip the grace period (tests; docs/lab.md, trap 4). */
  graceless?: boolean;
  /** Where Ganesha keeps NFSv4 client recovery records (default /var/lib/nfs/ganesha, shared by
   * every Ganesha on the machine: tests give each instance its own). */
  recoveryRoot?: string;
}

/** A main ganesha.conf for an appliance or a test: NFSv4 only (no rpcbind, no NLM), numeric owners. */
export function renderGaneshaMainConfig(opts: GaneshaMainConfigOptions): string {
  return [
    '# NFS-Ganesha for netroot: NFSv4 only, so no rpcbind, NLM or rquota.',
    'NFS_CORE_PARAM { Protocols = 4; Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false; }',
    `NFSV4 { ${opts.graceless ? 'Graceless = true; ' : ''}Only_Numeric_Owners = true;${opts.recoveryRoot ? ` RecoveryRoot = "${opts.recoveryRoot}";` : ''} }`,
    'NFS_KRB5 { Active_krb5 = false; }',
    `%include "${opts.includePath}"`,
    '',
  ].join('\n');
}
