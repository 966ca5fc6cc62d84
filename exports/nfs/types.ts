/** The export table's model: what netroot's registry says NFS must serve, and apply results. */

/** Where a node keeps its persistent state (seed: "Disks"): on the NFS server (CLIENTSTATE) or on its
 * own disk partitions labelled stateless-rw / stateless-state (then it gets no state export). */
export type StateMode = 'nfs' | 'local';

/** The images tree's clients: registered node addresses, or whole networks. */
export type RootExport = 'nodes' | 'networks';

export interface ExportNode {
  /** Lowercase FQDN; names the state directory `state/<fqdn>`. */
  fqdn: string;
  /** The node's reserved IPv4 address: its state export is granted to this address only. */
  ipv4: string;
  enabled: boolean;
  stateMode: StateMode;
}

/** Everything the table is rendered from; the server builds it from the registry and config. */
export interface ExportInput {
  /** Absolute path of the images tree (`<data>/images`), exported read-only. */
  imagesDir: string;
  /** Absolute path of the state tree (`<data>/state`); each node gets `stateDir/<fqdn>`. */
  stateDir: string;
  /** Who may mount the images tree (read-only roots, /etc/shadow included): "nodes" (default),
   * every registered node's address and nothing else; "networks", everything in nodeNetworks. */
  rootExport?: RootExport;
  /** CIDRs (or single addresses) of the node networks that may mount the images tree when
   * rootExport is "networks". */
  nodeNetworks: string[];
  /** exports(5) options of the images export; default ro,no_root_squash,async,no_subtree_check. */
  rootOptions?: string[];
  /** exports(5) options of each state export; default rw,no_root_squash,sync,no_subtree_check. */
  stateOptions?: string[];
  nodes: ExportNode[];
}

export type Access = 'ro' | 'rw';

export interface ExportClient {
  /** A CIDR ("10.0.0.0/24") or a single IPv4 address. */
  host: string;
  access: Access;
  /** exports(5) options, in the order they are rendered. */
  options: string[];
}

export interface ExportEntry {
  kind: 'images' | 'state';
  path: string;
  /** The node a state export belongs to. */
  fqdn?: string;
  clients: ExportClient[];
}

/** Entries in a deterministic order: the images export first, then state exports by path. */
export interface ExportTable {
  entries: ExportEntry[];
}

/** An export in a file netroot does not own (e.g. /etc/exports) for one of netroot's paths. */
export interface ExportConflict {
  file: string;
  line: number;
  path: string;
  /** same-path: the same directory; ancestor: a parent directory, which exposes netroot's tree. */
  kind: 'same-path' | 'ancestor';
  text: string;
}

export interface ApplyResult {
  ok: boolean;
  backend: 'kernel' | 'ganesha';
  /** ISO time the apply finished. */
  at: string;
  /** Whether the file's content changed. */
  changed: boolean;
  /** Why it failed (the previous table was restored and stays live). */
  error?: string;
  /** Readback differences that made the apply fail (or that remained after restoring). */
  differences: string[];
  conflicts: ExportConflict[];
  warnings: string[];
}

/** One way of serving the table (kernel nfsd via exportfs, or NFS-Ganesha). */
export interface NfsBackend {
  readonly name: 'kernel' | 'ganesha';
  /** The file this backend owns. */
  readonly filePath: string;
  /** The text this backend would write for the table (given what is on disk now). */
  render(table: ExportTable): Promise<string>;
  /** The file's current content, or null when it does not exist. */
  readCurrent(): Promise<string | null>;
  /** `path host` pairs the file netroot owns exports now (see exportPairs). */
  readExported(): Promise<Set<string>>;
  apply(table: ExportTable): Promise<ApplyResult>;
}
