import type Database from 'better-sqlite3';
import type { Discovery } from '../../../pxe/boot/events.js';
import type { DiscoveredRecord, DiscoveredRepo } from '../types.js';

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

export function sqliteDiscovered(db: Database.Database): DiscoveredRepo {
  const exists = db.prepare<[string], { mac: string }>('SELECT mac FROM discovered WHERE mac = ?');
  // A later packet refreshes what it knows; what it does not carry (e.g. an HTTP request has no
  // arch) keeps the earlier value.
  const upsert = db.prepare(
    `INSERT INTO discovered (mac, arch, vendor_class, user_class, uuid, relay, via, first_seen, last_seen)
     VALUES (@mac, @arch, @vendor_class, @user_class, @uuid, @relay, @via, @at, @at)
     ON CONFLICT(mac) DO UPDATE SET
       arch = coalesce(excluded.arch, arch), vendor_class = coalesce(excluded.vendor_class, vendor_class),
       user_class = coalesce(excluded.user_class, user_class), uuid = coalesce(excluded.uuid, uuid),
       relay = coalesce(excluded.relay, relay), via = excluded.via, last_seen = excluded.last_seen,
       seen_count = seen_count + 1`,
  );
  const get = db.prepare<[string], Row>('SELECT * FROM discovered WHERE mac = ?');
  const list = db.prepare<[number, number], Row>('SELECT * FROM discovered ORDER BY last_seen DESC, mac LIMIT ? OFFSET ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM discovered');
  const del = db.prepare<[string]>('DELETE FROM discovered WHERE mac = ?');
  const tx = db.transaction((d: Discovery, at: number) => {
    const isNew = !exists.get(d.mac);
    upsert.run({
      mac: d.mac,
      arch: d.arch,
      vendor_class: d.vendorClass,
      user_class: d.userClass,
      uuid: d.uuid,
      relay: d.relay,
      via: d.via,
      at,
    });
    return isNew;
  });
  return {
    async upsert(d, at) {
      return tx(d, at);
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
  };
}
