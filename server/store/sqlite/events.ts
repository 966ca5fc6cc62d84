import type Database from 'better-sqlite3';
import type { BootEventKind } from '../../../pxe/boot/events.js';
import type { Discovery } from '../../../pxe/boot/events.js';
import type { BootStatus, EventRecord, EventRepo, SecurityRecord } from '../types.js';

interface Row {
  id: number;
  mac: string;
  kind: string;
  detail: string;
  at: number;
}

interface StatusRow {
  mac: string;
  last_id: number;
  last_kind: string;
  last_at: number;
  started_at: number | null;
  booted_at: number | null;
  image: string | null;
  version: string | null;
  running_image: string | null;
  running_version: string | null;
}

const fromRow = (r: Row): EventRecord => ({
  id: r.id,
  mac: r.mac,
  kind: r.kind as BootEventKind,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
  at: r.at,
});

const fromStatus = (r: StatusRow): BootStatus => ({
  mac: r.mac,
  lastId: r.last_id,
  lastKind: r.last_kind as BootEventKind,
  lastAt: r.last_at,
  startedAt: r.started_at,
  bootedAt: r.booted_at,
  image: r.image,
  version: r.version,
  runningImage: r.running_image,
  runningVersion: r.running_version,
});

/**
 * Does this event start a boot? A DHCP discover from PXE firmware or iPXE (vendor class
 * PXEClient; the installed OS's DHCP client sends none), or a boot file fetched.
 */
export function startsBoot(kind: string, detail: Record<string, unknown>): boolean {
  if (kind === 'tftp.file' || kind === 'http.script') return true;
  return kind === 'dhcp.discover' && typeof detail.vendorClass === 'string' && detail.vendorClass.startsWith('PXEClient');
}

/**
 * The store's hot writes as transactions on one connection: the service's own (in-memory stores,
 * fallback) or the event writer thread's (event-writer.ts), so a boot storm's batches, the
 * discovered list and the security log never block the event loop, and never meet another
 * writer on the service's connection (SQLITE_BUSY).
 */
export function eventWrites(db: Database.Database): EventWrites {
  const insert = db.prepare('INSERT INTO events (mac, kind, detail, at) VALUES (?, ?, ?, ?)');
  const upsertStatus = db.prepare(
    `INSERT INTO boot_status (mac, last_id, last_kind, last_at, started_at, booted_at, image, version, running_image, running_version)
     VALUES (@mac, @id, @kind, @at, @started, @booted, @image, @version, @runningImage, @runningVersion)
     ON CONFLICT(mac) DO UPDATE SET last_id = excluded.last_id, last_kind = excluded.last_kind, last_at = excluded.last_at,
       started_at = coalesce(excluded.started_at, started_at), booted_at = coalesce(excluded.booted_at, booted_at),
       image = coalesce(excluded.image, image), version = coalesce(excluded.version, version),
       running_image = coalesce(excluded.running_image, running_image), running_version = coalesce(excluded.running_version, running_version)`,
  );
  type St = { id: number; kind: string; at: number; started: number | null; booted: number | null; image: string | null; version: string | null; runningImage: string | null; runningVersion: string | null };
  // One boot_status upsert per MAC per batch (a boot storm batches thousands of events).
  const appendMany = db.transaction((list: Omit<EventRecord, 'id'>[]) => {
    const status = new Map<string, St>();
    const ids = list.map((e) => {
      const id = Number(insert.run(e.mac, e.kind, JSON.stringify(e.detail), e.at).lastInsertRowid);
      const prev = status.get(e.mac);
      const named = typeof e.detail.image === 'string' && typeof e.detail.version === 'string';
      // A boot's fetches name the version it was given (what the node may be booting); the
      // node's own "booted" report names the version it runs (from its kernel command line).
      const fetched = named && e.kind !== 'booted';
      const runs = named && e.kind === 'booted';
      status.set(e.mac, {
        id,
        kind: e.kind,
        at: e.at,
        started: startsBoot(e.kind, e.detail) ? e.at : (prev?.started ?? null),
        booted: e.kind === 'booted' ? e.at : (prev?.booted ?? null),
        image: fetched ? (e.detail.image as string) : (prev?.image ?? null),
        version: fetched ? (e.detail.version as string) : (prev?.version ?? null),
        runningImage: runs ? (e.detail.image as string) : (prev?.runningImage ?? null),
        runningVersion: runs ? (e.detail.version as string) : (prev?.runningVersion ?? null),
      });
      return id;
    });
    for (const [mac, st] of status) upsertStatus.run({ mac, ...st });
    return ids;
  });
  const pruneAge = db.prepare<[number]>('DELETE FROM events WHERE at < ?');
  // Per-MAC cap: delete everything older than the cap-th newest event of that MAC.
  const overCap = db.prepare<[number], { mac: string }>('SELECT mac FROM events GROUP BY mac HAVING count(*) > ?');
  const pruneMac = db.prepare<[string, string, number]>(
    'DELETE FROM events WHERE mac = ? AND id < (SELECT id FROM events WHERE mac = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
  );
  const prune = db.transaction((maxPerMac: number, olderThan: number) => {
    let n = pruneAge.run(olderThan).changes;
    for (const { mac } of overCap.all(maxPerMac)) n += pruneMac.run(mac, mac, maxPerMac - 1).changes;
    return n;
  });

  // The discovered list: a later sighting refreshes what it knows; what it does not carry (an
  // HTTP request has no arch) keeps the earlier value.
  const discExists = db.prepare<[string], { mac: string }>('SELECT mac FROM discovered WHERE mac = ?');
  const discUpsert = db.prepare(
    `INSERT INTO discovered (mac, arch, vendor_class, user_class, uuid, relay, via, first_seen, last_seen)
     VALUES (@mac, @arch, @vendor_class, @user_class, @uuid, @relay, @via, @at, @at)
     ON CONFLICT(mac) DO UPDATE SET
       arch = coalesce(excluded.arch, arch), vendor_class = coalesce(excluded.vendor_class, vendor_class),
       user_class = coalesce(excluded.user_class, user_class), uuid = coalesce(excluded.uuid, uuid),
       relay = coalesce(excluded.relay, relay), via = excluded.via, last_seen = excluded.last_seen,
       seen_count = seen_count + 1`,
  );
  const discover = db.transaction((list: { d: Discovery; at: number }[]) =>
    list.map(({ d, at }) => {
      const isNew = !discExists.get(d.mac);
      discUpsert.run({ mac: d.mac, arch: d.arch, vendor_class: d.vendorClass, user_class: d.userClass, uuid: d.uuid, relay: d.relay, via: d.via, at });
      return isNew;
    }),
  );
  // Unregistered MACs leave nothing behind when their discovered row goes: no timeline, no status.
  const discOld = db.prepare<[number], { mac: string }>('SELECT mac FROM discovered WHERE last_seen < ?');
  const discOverCap = db.prepare<[number], { mac: string }>('SELECT mac FROM discovered ORDER BY last_seen DESC, mac LIMIT -1 OFFSET ?');
  const discDel = db.prepare<[string]>('DELETE FROM discovered WHERE mac = ?');
  const orphanEvents = db.prepare<[string]>('DELETE FROM events WHERE mac = ? AND NOT EXISTS (SELECT 1 FROM nodes WHERE nodes.mac = events.mac)');
  const orphanStatus = db.prepare<[string]>('DELETE FROM boot_status WHERE mac = ? AND NOT EXISTS (SELECT 1 FROM nodes WHERE nodes.mac = boot_status.mac)');
  const pruneDiscovered = db.transaction((maxRows: number, olderThan: number) => {
    const gone = new Set([...discOld.all(olderThan), ...discOverCap.all(maxRows)].map((r) => r.mac));
    for (const mac of gone) {
      discDel.run(mac);
      orphanEvents.run(mac);
      orphanStatus.run(mac);
    }
    return gone.size;
  });

  const secInsert = db.prepare('INSERT INTO security_events (at, kind, mac, client, detail) VALUES (?, ?, ?, ?, ?)');
  const secTrim = db.prepare<[number]>('DELETE FROM security_events WHERE id <= (SELECT id FROM security_events ORDER BY id DESC LIMIT 1 OFFSET ?)');
  const security = db.transaction((list: Omit<SecurityRecord, 'id'>[], maxRows: number) => {
    for (const e of list) secInsert.run(e.at, e.kind, e.mac, e.client, JSON.stringify(e.detail));
    secTrim.run(maxRows);
  });

  return {
    append: (list) => appendMany(list),
    prune: (maxPerMac, olderThan) => prune(maxPerMac, olderThan),
    discover: (list) => discover(list),
    pruneDiscovered: (maxRows, olderThan) => pruneDiscovered(maxRows, olderThan),
    security: (list, maxRows) => void security(list, maxRows),
  };
}

/** The writes the writer thread runs (by name, in arrival order), or the service's connection. */
export interface EventWrites {
  /**
   * The events' ids, in order. Only the ids come back from the writer thread: copying a boot
   * storm's batch of records back was a tenth of a millisecond of the event loop's time per batch.
   */
  append(list: Omit<EventRecord, 'id'>[]): number[];
  prune(maxPerMac: number, olderThan: number): number;
  /** Upserts sightings; true for each MAC that was not in the list before. */
  discover(list: { d: Discovery; at: number }[]): boolean[];
  /** Drops discovered MACs not seen since olderThan and the oldest past maxRows (with their events). */
  pruneDiscovered(maxRows: number, olderThan: number): number;
  /** Appends to the security log, keeping its newest maxRows. */
  security(list: Omit<SecurityRecord, 'id'>[], maxRows: number): void;
}

/** The async side of the writes: a worker thread's, or the connection's own (`eventWrites`). */
export type AsyncEventWrites = { [K in keyof EventWrites]: (...args: Parameters<EventWrites[K]>) => Promise<ReturnType<EventWrites[K]>> };

export function sqliteEvents(db: Database.Database, writes: AsyncEventWrites): EventRepo {
  const recent = db.prepare<[string, number], Row>('SELECT * FROM (SELECT * FROM events WHERE mac = ? ORDER BY id DESC LIMIT ?) ORDER BY id');
  const after = db.prepare<[string, number, number], Row>('SELECT * FROM events WHERE mac = ? AND id > ? ORDER BY id LIMIT ?');
  const status = db.prepare<[string], StatusRow>('SELECT * FROM boot_status WHERE mac = ?');
  const statusAll = db.prepare<[], StatusRow>('SELECT * FROM boot_status');
  // Versions a registered node may still run: the one its last boot fetched (it may be booting
  // it, or running it without having reported) and the one it last reported running. Replaced
  // only when the node boots again: a node seen booting since no longer runs the old one.
  const versionsBooted = db.prepare<[string, string], { version: string }>(
    `SELECT b.version AS version FROM boot_status b JOIN nodes n ON n.mac = b.mac WHERE b.image = ? AND b.version IS NOT NULL
     UNION
     SELECT b.running_version AS version FROM boot_status b JOIN nodes n ON n.mac = b.mac WHERE b.running_image = ? AND b.running_version IS NOT NULL`,
  );
  const bootedSince = db.prepare<[number], { at: number }>("SELECT at FROM events WHERE kind = 'booted' AND at >= ? ORDER BY at");
  const statusMany = db.transaction((macs: string[]) => {
    const m = new Map<string, BootStatus>();
    for (const mac of macs) {
      const r = status.get(mac);
      if (r) m.set(mac, fromStatus(r));
    }
    return m;
  });
  return {
    async append(list) {
      if (list.length === 0) return [];
      const ids = await writes.append(list);
      return list.map((e, i) => ({ id: ids[i]!, mac: e.mac, kind: e.kind, detail: e.detail, at: e.at }));
    },
    async listForMac(mac, { limit, afterId }) {
      return (afterId === undefined ? recent.all(mac, limit) : after.all(mac, afterId, limit)).map(fromRow);
    },
    async statusFor(macs) {
      return statusMany(macs);
    },
    async statusAll() {
      return statusAll.all().map(fromStatus);
    },
    async versionsBooted(image) {
      return versionsBooted.all(image, image).map((r) => r.version);
    },
    async bootedSince(since) {
      return bootedSince.all(since).map((r) => r.at);
    },
    async prune(maxPerMac, olderThan) {
      return writes.prune(maxPerMac, olderThan);
    },
  };
}
