import type Database from 'better-sqlite3';
import type { ImageRecord, ImageRepo, VersionRepo, VersionRow } from '../types.js';
import { uniqueViolation } from './nodes.js';
import { setClause } from './patch.js';

interface Row {
  name: string;
  host: string | null;
  settings: string;
  active_version: string | null;
  created_at: number;
  updated_at: number | null;
}
const fromRow = (r: Row): ImageRecord => ({
  name: r.name,
  host: r.host,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  activeVersion: r.active_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at ?? r.created_at,
});

export function sqliteImages(db: Database.Database, now: () => number): ImageRepo {
  const list = db.prepare<[], Row>('SELECT * FROM images ORDER BY name');
  const get = db.prepare<[string], Row>('SELECT * FROM images WHERE name = ?');
  const insert = db.prepare('INSERT INTO images (name, host, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
  const del = db.prepare<[string]>('DELETE FROM images WHERE name = ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM images');
  return {
    async list() {
      return list.all().map(fromRow);
    },
    async get(name) {
      const r = get.get(name);
      return r ? fromRow(r) : null;
    },
    async create(name, host = null, settings = {}) {
      try {
        const t = now();
        insert.run(name, host, JSON.stringify(settings), t, t);
      } catch (e) {
        const u = uniqueViolation(e);
        throw u ? Object.assign(u, { field: 'name' as const }) : e;
      }
      return fromRow(get.get(name)!);
    },
    async update(name, patch) {
      const { sets, args } = setClause(patch, { host: 'host', settings: { name: 'settings', json: true }, activeVersion: 'active_version' });
      db.prepare(`UPDATE images SET ${['updated_at = @now', ...sets].join(', ')} WHERE name = @name`).run({ ...args, name, now: now() });
      return fromRow(get.get(name)!);
    },
    async delete(name) {
      return del.run(name).changes > 0;
    },
    async count() {
      return count.get()!.n;
    },
  };
}

interface VRow {
  image: string;
  version: string;
  state: VersionRow['state'];
  created_at: number;
  kernel: string | null;
  error: string | null;
  kept: number;
  size_bytes: number | null;
}
const fromV = (r: VRow): VersionRow => ({
  image: r.image,
  version: r.version,
  state: r.state,
  createdAt: r.created_at,
  kernel: r.kernel,
  error: r.error,
  kept: r.kept === 1,
  sizeBytes: r.size_bytes,
});

export function sqliteVersions(db: Database.Database): VersionRepo {
  const list = db.prepare<[string], VRow>('SELECT * FROM versions WHERE image = ? ORDER BY created_at, version');
  const get = db.prepare<[string, string], VRow>('SELECT * FROM versions WHERE image = ? AND version = ?');
  const insert = db.prepare(
    'INSERT INTO versions (image, version, state, created_at, kernel, error, kept, size_bytes) VALUES (@image, @version, @state, @createdAt, @kernel, @error, @kept, @sizeBytes)',
  );
  const del = db.prepare<[string, string]>('DELETE FROM versions WHERE image = ? AND version = ?');
  const COLS: Record<string, string> = { state: 'state', kernel: 'kernel', error: 'error', kept: 'kept', sizeBytes: 'size_bytes' };
  return {
    async list(image) {
      return list.all(image).map(fromV);
    },
    async get(image, version) {
      const r = get.get(image, version);
      return r ? fromV(r) : null;
    },
    async create(v) {
      try {
        insert.run({ ...v, kept: v.kept ? 1 : 0 });
      } catch (e) {
        const u = uniqueViolation(e);
        throw u ? Object.assign(u, { field: 'version' as const }) : e;
      }
    },
    async update(image, version, patch) {
      const { sets, args } = setClause(patch, COLS);
      if (sets.length) db.prepare(`UPDATE versions SET ${sets.join(', ')} WHERE image = @image AND version = @version`).run({ ...args, image, version });
    },
    async remove(image, version) {
      del.run(image, version);
    },
  };
}
