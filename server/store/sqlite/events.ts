import type Database from 'better-sqlite3';
import type { BootEventKind } from '../../../pxe/boot/events.js';
import type { EventRecord, EventRepo } from '../types.js';

interface Row {
  id: number;
  mac: string;
  kind: string;
  detail: string;
  at: number;
}

const fromRow = (r: Row): EventRecord => ({
  id: r.id,
  mac: r.mac,
  kind: r.kind as BootEventKind,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
  at: r.at,
});

export function sqliteEvents(db: Database.Database): EventRepo {
  const insert = db.prepare('INSERT INTO events (mac, kind, detail, at) VALUES (?, ?, ?, ?)');
  const appendMany = db.transaction((list: Omit<EventRecord, 'id'>[]) =>
    list.map((e) => ({ ...e, id: Number(insert.run(e.mac, e.kind, JSON.stringify(e.detail), e.at).lastInsertRowid) })),
  );
  const recent = db.prepare<[string, number], Row>('SELECT * FROM (SELECT * FROM events WHERE mac = ? ORDER BY id DESC LIMIT ?) ORDER BY id');
  const after = db.prepare<[string, number, number], Row>('SELECT * FROM events WHERE mac = ? AND id > ? ORDER BY id LIMIT ?');
  const latest = db.prepare<[string], Row>('SELECT * FROM events WHERE mac = ? ORDER BY id DESC LIMIT 1');
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
  const latestMany = db.transaction((macs: string[]) => {
    const m = new Map<string, EventRecord>();
    for (const mac of macs) {
      const r = latest.get(mac);
      if (r) m.set(mac, fromRow(r));
    }
    return m;
  });
  return {
    async append(list) {
      return appendMany(list);
    },
    async listForMac(mac, { limit, afterId }) {
      return (afterId === undefined ? recent.all(mac, limit) : after.all(mac, afterId, limit)).map(fromRow);
    },
    async latestFor(macs) {
      return latestMany(macs);
    },
    async prune(maxPerMac, olderThan) {
      return prune(maxPerMac, olderThan);
    },
  };
}
