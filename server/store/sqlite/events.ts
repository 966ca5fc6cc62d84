import type Database from 'better-sqlite3';
import type { BootEventKind } from '../../../pxe/boot/events.js';
import type { BootStatus, EventRecord, EventRepo } from '../types.js';

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
 * The event table's writes as transactions on one connection: the service's own (in-memory
 * stores, fallback) or the event writer thread's (event-writer.ts), so a boot storm's batches and
 * their WAL checkpoints never block the event loop.
 */
export function eventWrites(db: Database.Database): EventWrites {
  const insert = db.prepare('INSERT INTO events (mac, kind, detail, at) VALUES (?, ?, ?, ?)');
  const upsertStatus = db.prepare(
    `INSERT INTO boot_status (mac, last_id, last_kind, last_at, started_at, booted_at, image, version)
     VALUES (@mac, @id, @kind, @at, @started, @booted, @image, @version)
     ON CONFLICT(mac) DO UPDATE SET last_id = excluded.last_id, last_kind = excluded.last_kind, last_at = excluded.last_at,
       started_at = coalesce(excluded.started_at, started_at), booted_at = coalesce(excluded.booted_at, booted_at),
       image = coalesce(excluded.image, image), version = coalesce(excluded.version, version)`,
  );
  // One boot_status upsert per MAC per batch (a boot storm batches thousands of events).
  const appendMany = db.transaction((list: Omit<EventRecord, 'id'>[]) => {
    const status = new Map<string, { id: number; kind: string; at: number; started: number | null; booted: number | null; image: string | null; version: string | null }>();
    const out = list.map((e) => {
      const id = Number(insert.run(e.mac, e.kind, JSON.stringify(e.detail), e.at).lastInsertRowid);
      const prev = status.get(e.mac);
      // Boot file events name the image version served: what the node boots.
      const named = typeof e.detail.image === 'string' && typeof e.detail.version === 'string';
      status.set(e.mac, {
        id,
        kind: e.kind,
        at: e.at,
        started: startsBoot(e.kind, e.detail) ? e.at : (prev?.started ?? null),
        booted: e.kind === 'booted' ? e.at : (prev?.booted ?? null),
        image: named ? (e.detail.image as string) : (prev?.image ?? null),
        version: named ? (e.detail.version as string) : (prev?.version ?? null),
      });
      return { ...e, id };
    });
    for (const [mac, st] of status) upsertStatus.run({ mac, ...st });
    return out;
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
  return { append: (list) => appendMany(list), prune: (maxPerMac, olderThan) => prune(maxPerMac, olderThan) };
}

export interface EventWrites {
  append(list: Omit<EventRecord, 'id'>[]): EventRecord[];
  prune(maxPerMac: number, olderThan: number): number;
}

/** The async side of the writes: a worker thread's, or the connection's own (`eventWrites`). */
export interface AsyncEventWrites {
  append(list: Omit<EventRecord, 'id'>[]): Promise<EventRecord[]>;
  prune(maxPerMac: number, olderThan: number): Promise<number>;
}

export function sqliteEvents(db: Database.Database, writer?: AsyncEventWrites): EventRepo {
  const local = writer ? null : eventWrites(db);
  const recent = db.prepare<[string, number], Row>('SELECT * FROM (SELECT * FROM events WHERE mac = ? ORDER BY id DESC LIMIT ?) ORDER BY id');
  const after = db.prepare<[string, number, number], Row>('SELECT * FROM events WHERE mac = ? AND id > ? ORDER BY id LIMIT ?');
  const status = db.prepare<[string], StatusRow>('SELECT * FROM boot_status WHERE mac = ?');
  const statusAll = db.prepare<[], StatusRow>('SELECT * FROM boot_status');
  const versionsBooted = db.prepare<[string], { version: string }>('SELECT DISTINCT version FROM boot_status WHERE image = ? AND version IS NOT NULL');
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
      return local ? local.append(list) : writer!.append(list);
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
      return versionsBooted.all(image).map((r) => r.version);
    },
    async bootedSince(since) {
      return bootedSince.all(since).map((r) => r.at);
    },
    async prune(maxPerMac, olderThan) {
      return local ? local.prune(maxPerMac, olderThan) : writer!.prune(maxPerMac, olderThan);
    },
  };
}
