import type Database from 'better-sqlite3';
import type { TokenRecord, TokenRepo, TokenRole } from '../types.js';
import { uniqueViolation } from './nodes.js';

interface Row {
  id: number;
  name: string;
  role: TokenRole;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

const COLS = 'id, name, role, created_at, last_used_at, revoked_at';
const fromRow = (r: Row): TokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export function sqliteTokens(db: Database.Database, now: () => number): TokenRepo {
  const insert = db.prepare('INSERT INTO tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?)');
  const byId = db.prepare<[number], Row>(`SELECT ${COLS} FROM tokens WHERE id = ?`);
  const byName = db.prepare<[string], Row>(`SELECT ${COLS} FROM tokens WHERE name = ?`);
  const byHash = db.prepare<[string], Row>(`SELECT ${COLS} FROM tokens WHERE hash = ?`);
  const list = db.prepare<[], Row>(`SELECT ${COLS} FROM tokens ORDER BY id`);
  const revoke = db.prepare<[number, number]>('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const touch = db.prepare<[number, number]>('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  const active = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL');
  return {
    async create(name, role, hash) {
      try {
        const r = insert.run(name, role, hash, now());
        return fromRow(byId.get(Number(r.lastInsertRowid))!);
      } catch (e) {
        throw uniqueViolation(e) ?? e;
      }
    },
    async findByHash(hash) {
      const r = byHash.get(hash);
      return r ? fromRow(r) : null;
    },
    async list() {
      return list.all().map(fromRow);
    },
    async getByName(name) {
      const r = byName.get(name);
      return r ? fromRow(r) : null;
    },
    async get(id) {
      const r = byId.get(id);
      return r ? fromRow(r) : null;
    },
    async revoke(id, at) {
      return revoke.run(at, id).changes > 0;
    },
    async touch(id, at) {
      touch.run(at, id);
    },
    async countActive() {
      return active.get()!.n;
    },
  };
}
