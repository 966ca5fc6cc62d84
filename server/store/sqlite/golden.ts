import type Database from 'better-sqlite3';
import type { GoldenHostRecord, GoldenHostRepo } from '../types.js';
import { uniqueViolation } from './nodes.js';
import { setClause } from './patch.js';

interface Row {
  name: string;
  address: string;
  port: number;
  user: string;
  source_path: string;
  host_key: string | null;
  fingerprint: string | null;
  pinned: number;
  created_at: number;
  updated_at: number;
}
const fromRow = (r: Row): GoldenHostRecord => ({
  name: r.name,
  address: r.address,
  port: r.port,
  user: r.user,
  sourcePath: r.source_path,
  hostKey: r.host_key,
  fingerprint: r.fingerprint,
  pinned: r.pinned === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const COLS: Record<string, string> = { address: 'address', port: 'port', user: 'user', sourcePath: 'source_path', hostKey: 'host_key', fingerprint: 'fingerprint', pinned: 'pinned' };

export function sqliteGoldenHosts(db: Database.Database, now: () => number): GoldenHostRepo {
  const list = db.prepare<[], Row>('SELECT * FROM golden_hosts ORDER BY name');
  const get = db.prepare<[string], Row>('SELECT * FROM golden_hosts WHERE name = ?');
  const insert = db.prepare(
    `INSERT INTO golden_hosts (name, address, port, user, source_path, host_key, fingerprint, pinned, created_at, updated_at)
     VALUES (@name, @address, @port, @user, @sourcePath, @hostKey, @fingerprint, @pinned, @now, @now)`,
  );
  const del = db.prepare<[string]>('DELETE FROM golden_hosts WHERE name = ?');
  return {
    async list() {
      return list.all().map(fromRow);
    },
    async get(name) {
      const r = get.get(name);
      return r ? fromRow(r) : null;
    },
    async create(h) {
      try {
        insert.run({ ...h, pinned: h.pinned ? 1 : 0, now: now() });
      } catch (e) {
        const u = uniqueViolation(e);
        throw u ? Object.assign(u, { field: 'name' as const }) : e;
      }
      return fromRow(get.get(h.name)!);
    },
    async update(name, patch) {
      const { sets, args } = setClause(patch, COLS);
      db.prepare(`UPDATE golden_hosts SET ${['updated_at = @now', ...sets].join(', ')} WHERE name = @name`).run({ ...args, name, now: now() });
      return fromRow(get.get(name)!);
    },
    async delete(name) {
      return del.run(name).changes > 0;
    },
  };
}
