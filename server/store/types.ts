/**
 * The registry's storage interface. Everything outside server/store reaches the database through
 * these repositories, so a PostgreSQL implementation can stand in for SQLite (several netroot
 * instances sharing one registry). Methods are async for that reason even though SQLite is not.
 */
import type { BootMode } from '../../pxe/boot/types.js';
import type { BootEventKind, Discovery } from '../../pxe/boot/events.js';
import type { LeaseStore } from '../../pxe/dhcp/leases.js';

export type StateMode = 'nfs' | 'local';
export type TokenRole = 'admin' | 'readonly';

export interface NodeFields {
  mac: string;
  fqdn: string;
  ipv4: string;
  image: string | null;
  pinnedVersion: string | null;
  kernelArgs: string;
  bootMode: BootMode;
  /** Where the node keeps its state: on netroot over NFS (CLIENTSTATE) or on local disk labels. */
  stateMode: StateMode;
  enabled: boolean;
}

export interface NodeRecord extends NodeFields {
  id: number;
  /** ms since the epoch */
  createdAt: number;
  updatedAt: number;
}

export interface NodeQuery {
  image?: string;
  /** Substring of MAC, FQDN or IP. */
  search?: string;
  enabled?: boolean;
  /** Boot state as bootState() derives it (needs now and stuckAfterMs). */
  state?: { is: 'booted' | 'booting' | 'stuck' | 'never'; now: number; stuckAfterMs: number };
  sort?: 'fqdn' | 'mac' | 'ipv4' | 'image' | 'createdAt' | 'updatedAt' | 'lastEventAt';
  order?: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** Thrown by create/update when a unique column (mac, fqdn, ipv4) is already taken. */
export class UniqueViolation extends Error {
  constructor(readonly field: 'mac' | 'fqdn' | 'ipv4' | 'name' | 'version') {
    super(`unique violation on ${field}`);
    this.name = 'UniqueViolation';
  }
}

export interface NodeRepo {
  get(id: number): Promise<NodeRecord | null>;
  getByMac(mac: string): Promise<NodeRecord | null>;
  getByFqdn(fqdn: string): Promise<NodeRecord | null>;
  getByIpv4(ipv4: string): Promise<NodeRecord | null>;
  list(q: NodeQuery): Promise<Page<NodeRecord>>;
  /** Every node (for rendering exports and boot tables). */
  all(): Promise<NodeRecord[]>;
  create(fields: NodeFields): Promise<NodeRecord>;
  /** All or nothing. */
  createMany(fields: NodeFields[]): Promise<NodeRecord[]>;
  update(id: number, fields: NodeFields): Promise<NodeRecord>;
  delete(id: number): Promise<boolean>;
  count(): Promise<number>;
}

export interface DiscoveredRecord extends Discovery {
  firstSeen: number;
  lastSeen: number;
  seenCount: number;
}

export interface DiscoveredRepo {
  /** Insert or refresh (last seen, count, latest details). Returns true when the MAC is new. */
  upsert(d: Discovery, at: number): Promise<boolean>;
  /** Many sightings in one transaction (off the event loop where the store can); isNew for each. */
  upsertMany(list: { d: Discovery; at: number }[]): Promise<boolean[]>;
  get(mac: string): Promise<DiscoveredRecord | null>;
  list(limit: number, offset: number): Promise<Page<DiscoveredRecord>>;
  delete(mac: string): Promise<boolean>;
  /** Drops MACs not seen since olderThan and the least recently seen past maxRows; returns how many. */
  prune(maxRows: number, olderThan: number): Promise<number>;
}

/** A refused request from the node network (see pxe/boot/events.ts SecurityEvent). */
export interface SecurityRecord {
  id: number;
  at: number;
  kind: string;
  mac: string | null;
  client: string;
  detail: Record<string, unknown>;
}

export interface SecurityRepo {
  /** Appends, keeping the newest maxRows. */
  append(list: Omit<SecurityRecord, 'id'>[], maxRows: number): Promise<void>;
  /** Newest first; before: only ids below it. */
  list(q: { limit: number; before?: number }): Promise<SecurityRecord[]>;
  count(): Promise<number>;
}

export interface EventRecord {
  id: number;
  mac: string;
  kind: BootEventKind;
  detail: Record<string, unknown>;
  at: number;
}

/** Summary of a MAC's timeline: its last event, when its last boot started, when it last booted. */
export interface BootStatus {
  mac: string;
  lastId: number;
  lastKind: BootEventKind;
  lastAt: number;
  /** A boot starts with a PXE firmware/iPXE DHCP discover or a boot file fetch. */
  startedAt: number | null;
  bootedAt: number | null;
  /** Image and version the last boot was served (null until a boot file event names them). */
  image: string | null;
  version: string | null;
  /** Image and version the node last reported running (its "booted" report, from its command line). */
  runningImage: string | null;
  runningVersion: string | null;
}

export interface EventRepo {
  append(events: Omit<EventRecord, 'id'>[]): Promise<EventRecord[]>;
  /** Newest last; afterId for incremental reads. */
  listForMac(mac: string, opts: { limit: number; afterId?: number }): Promise<EventRecord[]>;
  /** The boot status of each MAC given (absent: no events). */
  statusFor(macs: string[]): Promise<Map<string, BootStatus>>;
  /** Every MAC's boot status. */
  statusAll(): Promise<BootStatus[]>;
  /**
   * Versions of an image that a registered node may still run (retention keeps them): the one
   * its last boot fetched and the one it last reported running.
   */
  versionsBooted(image: string): Promise<string[]>;
  /** Times of `booted` events since a moment (for boots-per-hour). */
  bootedSince(since: number): Promise<number[]>;
  /** Drops events past the per-MAC cap and older than maxAgeMs; returns how many went. */
  prune(maxPerMac: number, olderThan: number): Promise<number>;
}

export interface TokenRecord {
  id: number;
  name: string;
  role: TokenRole;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface TokenRepo {
  create(name: string, role: TokenRole, hash: string): Promise<TokenRecord>;
  findByHash(hash: string): Promise<TokenRecord | null>;
  list(): Promise<TokenRecord[]>;
  getByName(name: string): Promise<TokenRecord | null>;
  get(id: number): Promise<TokenRecord | null>;
  revoke(id: number, at: number): Promise<boolean>;
  touch(id: number, at: number): Promise<void>;
  countActive(): Promise<number>;
}

export interface ImageRecord {
  name: string;
  /** Golden host it is pulled from (null: versions are added by hand or not yet configured). */
  host: string | null;
  /** Pipeline settings (excludes, rwtab, statetab, kernel args, drivers, state mode...), JSON. */
  settings: Record<string, unknown>;
  activeVersion: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ImageRepo {
  list(): Promise<ImageRecord[]>;
  get(name: string): Promise<ImageRecord | null>;
  create(name: string, host?: string | null, settings?: Record<string, unknown>): Promise<ImageRecord>;
  update(name: string, patch: { host?: string | null; settings?: Record<string, unknown>; activeVersion?: string | null }): Promise<ImageRecord>;
  delete(name: string): Promise<boolean>;
  count(): Promise<number>;
}

export type VersionState = 'building' | 'ready' | 'failed' | 'removed';

export interface VersionRow {
  image: string;
  version: string;
  state: VersionState;
  createdAt: number;
  kernel: string | null;
  error: string | null;
  kept: boolean;
  sizeBytes: number | null;
}

export interface VersionRepo {
  /** Oldest first. */
  list(image: string): Promise<VersionRow[]>;
  get(image: string, version: string): Promise<VersionRow | null>;
  create(v: VersionRow): Promise<void>;
  update(image: string, version: string, patch: Partial<Omit<VersionRow, 'image' | 'version' | 'createdAt'>>): Promise<void>;
  remove(image: string, version: string): Promise<void>;
}

export interface GoldenHostRecord {
  name: string;
  address: string;
  port: number;
  user: string;
  sourcePath: string;
  /** The host key seen at registration (OpenSSH "type base64") and its SHA256 fingerprint. */
  hostKey: string | null;
  fingerprint: string | null;
  /** True once the admin confirmed the fingerprint: pulls are allowed. */
  pinned: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface GoldenHostRepo {
  list(): Promise<GoldenHostRecord[]>;
  get(name: string): Promise<GoldenHostRecord | null>;
  create(h: Omit<GoldenHostRecord, 'createdAt' | 'updatedAt'>): Promise<GoldenHostRecord>;
  update(name: string, patch: Partial<Omit<GoldenHostRecord, 'name' | 'createdAt' | 'updatedAt'>>): Promise<GoldenHostRecord>;
  delete(name: string): Promise<boolean>;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobRecord {
  id: number;
  kind: string;
  /** What the job works on, e.g. "image:centos7". */
  target: string;
  state: JobState;
  step: string | null;
  progress: { percent: number | null; bytes: number | null; rate: number | null } | null;
  log: string;
  result: Record<string, unknown> | null;
  error: string | null;
  createdBy: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface JobRepo {
  create(kind: string, target: string, createdBy: string | null): Promise<JobRecord>;
  get(id: number): Promise<JobRecord | null>;
  list(q: { target?: string; state?: JobState; limit: number }): Promise<JobRecord[]>;
  update(id: number, patch: Partial<Pick<JobRecord, 'state' | 'step' | 'progress' | 'result' | 'error' | 'startedAt' | 'finishedAt'>>): Promise<void>;
  appendLog(id: number, text: string, maxBytes: number): Promise<void>;
  /** Jobs left running by a crash: mark them failed at start. */
  failInterrupted(at: number): Promise<number>;
}

export interface AuditRecord {
  id: number;
  at: number;
  actor: string;
  method: string;
  path: string;
  status: number;
  summary: string;
}

export interface AuditRepo {
  append(e: Omit<AuditRecord, 'id'>): Promise<void>;
  list(q: { limit: number; before?: number }): Promise<AuditRecord[]>;
}

export interface Store {
  readonly kind: 'sqlite';
  nodes: NodeRepo;
  discovered: DiscoveredRepo;
  events: EventRepo;
  tokens: TokenRepo;
  images: ImageRepo;
  versions: VersionRepo;
  goldenHosts: GoldenHostRepo;
  jobs: JobRepo;
  audit: AuditRepo;
  security: SecurityRepo;
  /** DHCP dynamic pool leases (pxe/dhcp's LeaseStore contract). */
  leases: LeaseStore;
  /** A quick liveness check for health reports. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
