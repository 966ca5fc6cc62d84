/** The SQLite store: one file in WAL mode, migrations at open. */
import Database from 'better-sqlite3';
import { closeSync, constants as fsc, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from '../types.js';
import { migrate } from './migrations.js';
import { sqliteDiscovered, sqliteSecurity } from './discovered.js';
import { sqliteEvents } from './events.js';
import { localWrites } from './writes.js';
import { sqliteImages, sqliteVersions } from './images.js';
import { sqliteGoldenHosts } from './golden.js';
import { sqliteAudit, sqliteJobs } from './jobs.js';
import { sqliteNodes } from './nodes.js';
import { sqliteTokens } from './tokens.js';
import { sqliteLeases } from './leases.js';
import { startEventWriter } from './event-writer.js';

export interface SqliteStore extends Store {
  /** The raw handle, for backup (SQLite online backup API). */
  readonly db: Database.Database;
  readonly schemaVersion: number;
}

export interface SqliteStoreOptions {
  /**
   * Boot events written by a thread of their own (event-writer.ts), off the event loop the DHCP,
   * TFTP and HTTP servers share. Default true for a file; an in-memory database cannot be shared.
   */
  eventWriterThread?: boolean;
}

export function openSqliteStore(path: string, now: () => number = Date.now, opts: SqliteStoreOptions = {}): SqliteStore {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    // Born 0600: SQLite gives the -wal and -shm files it makes the main file's mode, and an empty
    // file is an empty database to it.
    closeSync(openSync(path, fsc.O_RDWR | fsc.O_CREAT, 0o600));
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const schemaVersion = migrate(db);
  const ping = db.prepare('SELECT 1');
  const writer = path !== ':memory:' && (opts.eventWriterThread ?? true) ? startEventWriter(path, db) : undefined;
  const writes = writer ?? localWrites(db);
  const leases = sqliteLeases(db, { writer, ...(path !== ':memory:' ? { journal: `${path}-leases` } : {}) });
  return {
    kind: 'sqlite',
    db,
    schemaVersion,
    nodes: sqliteNodes(db, now),
    discovered: sqliteDiscovered(db, writes),
    events: sqliteEvents(db, writes),
    tokens: sqliteTokens(db, now),
    images: sqliteImages(db, now),
    versions: sqliteVersions(db),
    goldenHosts: sqliteGoldenHosts(db, now),
    jobs: sqliteJobs(db, now),
    audit: sqliteAudit(db),
    security: sqliteSecurity(db, writes),
    leases,
    async ping() {
      ping.get();
    },
    async close() {
      try {
        await leases.close();
      } finally {
        await writer?.close();
      }
      if (db.open) db.close();
    },
  };
}
