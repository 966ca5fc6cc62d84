import type Database from 'better-sqlite3';
import type { Discovery } from '../../../pxe/boot/events.js';
import type { DiscoveredRecord, DiscoveredRepo, SecurityRepo } from '../types.js';
import type { AsyncEventWrites } from './events.js';

interface Row {
  mac: string;
  arch: number | null;
  vendor_class: string | null;
  user_class: string | null;
  uuid: string | null;
  relay: string | null;
  via: Discovery['via'];
  first_seen: number;
  last_seen: number;
  seen_count: number;
}

const fromRow = (r: Row): DiscoveredRecord => ({
  mac: r.mac,
  arch: r.arch,
  vendorClass: r.vendor_class,
  userClass: r.user_class,
  uuid: r.uuid,
  relay: r.relay,
  via: r.via,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  seenCount: r.seen_count,
});

export function sqliteDiscovered(db: Database.Database, writes: AsyncEventWrites): DiscoveredRepo {
  const get = db.prepare<[string], Row>('SELECT * FROM discovered WHERE mac = ?');
  const list = db.prepare<[number, number], Row>('SELECT * FROM discovered ORDER BY last_seen DESC, mac LIMIT ? OFFSET ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM discovered');
  const del = db.prepare<[string]>('DELETE FROM discovered WHERE mac = ?');
  return {
    async upsert(d, at) {
      return (await writes.discover([{ d, at }]))[0]!;
    },
    async upsertMany(items) {
      return items.length ? writes.discover(items) : [];
    },
    async get(mac) {
      const r = get.get(mac);
      return r ? fromRow(r) : null;
    },
    async list(limit, offset) {
      return { items: list.all(limit, offset).map(fromRow), total: count.get()!.n };
    },
    async delete(mac) {
      return del.run(mac).changes > 0;
    },
    async prune(maxRows, olderThan) {
      return writes.pruneDiscovered(maxRows, olderThan);
    },
  };
}

export function sqliteSecurity(db: Database.Database, writes: AsyncEventWrites): SecurityRepo {
  const page = db.prepare<[number, number], { id: number; at: number; kind: string; mac: string | null; client: string; detail: string }>(
    'SELECT * FROM security_events WHERE id < ? ORDER BY id DESC LIMIT ?',
  );
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM security_events');
  return {
    async append(list, maxRows) {
      if (list.length) await writes.security(list, maxRows);
    },
    async list({ limit, before }) {
      return page.all(before ?? Number.MAX_SAFE_INTEGER, limit).map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
    },
    async count() {
      return count.get()!.n;
    },
  };
}
