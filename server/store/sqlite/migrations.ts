/**
 * Versioned schema migrations, applied in order at start inside one transaction each. A migration
 * is never edited once released: add a new one.
 */
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: registry foundation
  `
  CREATE TABLE nodes (
    id             INTEGER PRIMARY KEY,
    mac            TEXT NOT NULL UNIQUE,
    fqdn           TEXT NOT NULL UNIQUE,
    ipv4           TEXT NOT NULL UNIQUE,
    image          TEXT,
    pinned_version TEXT,
    kernel_args    TEXT NOT NULL DEFAULT '',
    boot_mode      TEXT NOT NULL CHECK (boot_mode IN ('ipxe','pxelinux')),
    state_mode     TEXT NOT NULL CHECK (state_mode IN ('nfs','local')),
    enabled        INTEGER NOT NULL CHECK (enabled IN (0,1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
  );
  CREATE INDEX nodes_image ON nodes(image);

  CREATE TABLE discovered (
    mac          TEXT PRIMARY KEY,
    arch         INTEGER,
    vendor_class TEXT,
    user_class   TEXT,
    uuid         TEXT,
    relay        TEXT,
    via          TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    seen_count   INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX discovered_last_seen ON discovered(last_seen);

  CREATE TABLE events (
    id     INTEGER PRIMARY KEY,
    mac    TEXT NOT NULL,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    at     INTEGER NOT NULL
  );
  CREATE INDEX events_mac_id ON events(mac, id);
  CREATE INDEX events_at ON events(at);

  -- One row per MAC, kept up to date with each event, so boot states of 10,000 nodes need no
  -- scan of the events table.
  CREATE TABLE boot_status (
    mac        TEXT PRIMARY KEY,
    last_id    INTEGER NOT NULL,
    last_kind  TEXT NOT NULL,
    last_at    INTEGER NOT NULL,
    started_at INTEGER,
    booted_at  INTEGER,
    -- The image version this MAC's last boot fetched (from boot file events).
    image      TEXT,
    version    TEXT
  );
  CREATE INDEX boot_status_booted ON boot_status(booted_at);

  CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin','readonly')),
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
  );

  CREATE TABLE images (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  );
  `,
  // 2: DHCP pool leases, golden hosts, image settings and versions, jobs, audit log
  `
  CREATE TABLE leases (
    ip         TEXT PRIMARY KEY,
    ip_num     INTEGER NOT NULL,
    mac        TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('offered','bound','declined')),
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX leases_mac ON leases(mac);
  CREATE INDEX leases_num ON leases(ip_num);

  CREATE TABLE golden_hosts (
    name         TEXT PRIMARY KEY,
    address      TEXT NOT NULL,
    port         INTEGER NOT NULL,
    user         TEXT NOT NULL,
    source_path  TEXT NOT NULL,
    host_key     TEXT,
    fingerprint  TEXT,
    pinned       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
  );

  ALTER TABLE images ADD COLUMN host TEXT;
  ALTER TABLE images ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE images ADD COLUMN active_version TEXT;
  ALTER TABLE images ADD COLUMN updated_at INTEGER;

  CREATE TABLE versions (
    image       TEXT NOT NULL REFERENCES images(name) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('building','ready','failed','removed')),
    created_at  INTEGER NOT NULL,
    kernel      TEXT,
    error       TEXT,
    kept        INTEGER NOT NULL DEFAULT 0,
    size_bytes  INTEGER,
    PRIMARY KEY (image, version)
  );

  CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled')),
    step        TEXT,
    progress    TEXT,
    log         TEXT NOT NULL DEFAULT '',
    result      TEXT,
    error       TEXT,
    created_by  TEXT,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX jobs_target ON jobs(target, id);

  CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    method  TEXT NOT NULL,
    path    TEXT NOT NULL,
    status  INTEGER NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
  );
  CREATE INDEX audit_at ON audit(at);
  `,
  // 3: the version a node runs (its own "booted" report), apart from the one its last boot fetched;
  // refused requests from the node network
  `
  ALTER TABLE boot_status ADD COLUMN running_image TEXT;
  ALTER TABLE boot_status ADD COLUMN running_version TEXT;

  CREATE TABLE security_events (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    mac    TEXT,
    client TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX security_events_at ON security_events(at);
  `,
];

/** Applies pending migrations; returns the schema version reached. */
export function migrate(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  let version = row?.version ?? 0;
  if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  if (version > MIGRATIONS.length) {
    throw new Error(`database schema version ${version} is newer than this netroot (${MIGRATIONS.length}): refusing to start`);
  }
  for (; version < MIGRATIONS.length; version++) {
    const sql = MIGRATIONS[version]!;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    })();
  }
  return version;
}
