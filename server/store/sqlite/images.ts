import type Database from 'better-sqlite3';
import type { ImageRecord, ImageRepo } from '../types.js';
import { uniqueViolation } from './nodes.js';

interface Row {
  name: string;
  created_at: number;
}
const fromRow = (r: Row): ImageRecord => ({ name: r.name, createdAt: r.created_at });

export function sqliteImages(db: Database.Database, now: () => number): ImageRepo {
  const list = db.prepare<[], Row>('SELECT * FROM images ORDER BY name');
  const get = db.prepare<[string], Row>('SELECT * FROM images WHERE name = ?');
  const insert = db.prepare<[string, number]>('INSERT INTO images (name, created_at) VALUES (?, ?)');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM images');
  return {
    async list() {
      return list.all().map(fromRow);
    },
    async get(name) {
      const r = get.get(name);
      return r ? fromRow(r) : null;
    },
    async create(name) {
      try {
        insert.run(name, now());
      } catch (e) {
        throw uniqueViolation(e) ?? e;
      }
      return fromRow(get.get(name)!);
    },
    async count() {
      return count.get()!.n;
    },
  };
}
