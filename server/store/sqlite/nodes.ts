import type Database from 'better-sqlite3';
import { UniqueViolation, type NodeFields, type NodeQuery, type NodeRecord, type NodeRepo, type Page } from '../types.js';

interface Row {
  id: number;
  mac: string;
  fqdn: string;
  ipv4: string;
  image: string | null;
  pinned_version: string | null;
  kernel_args: string;
  boot_mode: 'ipxe' | 'pxelinux';
  state_mode: 'nfs' | 'local';
  enabled: number;
  created_at: number;
  updated_at: number;
}

const fromRow = (r: Row): NodeRecord => ({
  id: r.id,
  mac: r.mac,
  fqdn: r.fqdn,
  ipv4: r.ipv4,
  image: r.image,
  pinnedVersion: r.pinned_version,
  kernelArgs: r.kernel_args,
  bootMode: r.boot_mode,
  stateMode: r.state_mode,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const params = (f: NodeFields) => ({
  mac: f.mac,
  fqdn: f.fqdn,
  ipv4: f.ipv4,
  image: f.image,
  pinned_version: f.pinnedVersion,
  kernel_args: f.kernelArgs,
  boot_mode: f.bootMode,
  state_mode: f.stateMode,
  enabled: f.enabled ? 1 : 0,
});

/** Maps SQLite's unique-constraint error to the column that clashed. */
export function uniqueViolation(e: unknown): UniqueViolation | null {
  const err = e as { code?: string; message?: string };
  if (err.code !== 'SQLITE_CONSTRAINT_UNIQUE' && err.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const m = /\.(\w+)$/.exec(err.message ?? '');
  const col = m?.[1];
  return col === 'mac' || col === 'fqdn' || col === 'ipv4' || col === 'name' || col === 'version' ? new UniqueViolation(col) : null;
}

const SORT_COLUMNS: Record<NonNullable<NodeQuery['sort']>, string> = {
  fqdn: 'fqdn',
  mac: 'nodes.mac',
  ipv4: 'ipv4',
  image: 'nodes.image',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  lastEventAt: 'coalesce(bs.last_at, 0)',
};

// Mirrors registry/boot-state.ts in SQL, over the boot_status summary.
const BOOTED = '(bs.booted_at IS NOT NULL AND bs.booted_at >= coalesce(bs.started_at, 0))';
const STATE_SQL: Record<NonNullable<NodeQuery['state']>['is'], string> = {
  never: 'bs.mac IS NULL',
  booted: BOOTED,
  stuck: `(bs.mac IS NOT NULL AND NOT ${BOOTED} AND @now - bs.last_at > @stuck)`,
  booting: `(bs.mac IS NOT NULL AND NOT ${BOOTED} AND @now - bs.last_at <= @stuck)`,
};

export function sqliteNodes(db: Database.Database, now: () => number): NodeRepo {
  const byId = db.prepare<[number], Row>('SELECT * FROM nodes WHERE id = ?');
  const byMac = db.prepare<[string], Row>('SELECT * FROM nodes WHERE mac = ?');
  const byFqdn = db.prepare<[string], Row>('SELECT * FROM nodes WHERE fqdn = ?');
  const byIp = db.prepare<[string], Row>('SELECT * FROM nodes WHERE ipv4 = ?');
  const insert = db.prepare(
    `INSERT INTO nodes (mac, fqdn, ipv4, image, pinned_version, kernel_args, boot_mode, state_mode, enabled, created_at, updated_at)
     VALUES (@mac, @fqdn, @ipv4, @image, @pinned_version, @kernel_args, @boot_mode, @state_mode, @enabled, @now, @now)`,
  );
  const upd = db.prepare(
    `UPDATE nodes SET mac=@mac, fqdn=@fqdn, ipv4=@ipv4, image=@image, pinned_version=@pinned_version, kernel_args=@kernel_args,
     boot_mode=@boot_mode, state_mode=@state_mode, enabled=@enabled, updated_at=@now WHERE id=@id`,
  );
  const del = db.prepare<[number]>('DELETE FROM nodes WHERE id = ?');
  const all = db.prepare<[], Row>('SELECT * FROM nodes ORDER BY fqdn');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM nodes');

  const insertOne = (f: NodeFields): NodeRecord => {
    try {
      const r = insert.run({ ...params(f), now: now() });
      return fromRow(byId.get(Number(r.lastInsertRowid))!);
    } catch (e) {
      throw uniqueViolation(e) ?? e;
    }
  };
  const insertMany = db.transaction((list: NodeFields[]) => list.map(insertOne));

  /**
   * getByMac's answers, kept until the next write to the table (every write goes through this
   * repo): the DHCP server asks for each packet (twice per client), a boot storm of unknown MACs
   * thousands of times a second, and the indexed read, row object and record were several
   * microseconds each time. Bounded: past MAC_CACHE entries (a flood of random MACs) it starts
   * over. Callers get a copy, so none can change another's record.
   */
  const byMacCache = new Map<string, NodeRecord | null>();
  const MAC_CACHE = 100_000;
  const changed = <T>(write: () => T): T => {
    byMacCache.clear();
    try {
      return write();
    } finally {
      // Nothing is read in between (writes are synchronous), but a rolled-back transaction must not leave anything behind.
      byMacCache.clear();
    }
  };

  return {
    async get(id) {
      const r = byId.get(id);
      return r ? fromRow(r) : null;
    },
    async getByMac(mac) {
      let n = byMacCache.get(mac);
      if (n === undefined) {
        const r = byMac.get(mac);
        n = r ? fromRow(r) : null;
        if (byMacCache.size >= MAC_CACHE) byMacCache.clear();
        byMacCache.set(mac, n);
      }
      return n ? { ...n } : null;
    },
    async getByFqdn(fqdn) {
      const r = byFqdn.get(fqdn);
      return r ? fromRow(r) : null;
    },
    async getByIpv4(ip) {
      const r = byIp.get(ip);
      return r ? fromRow(r) : null;
    },
    async list(q): Promise<Page<NodeRecord>> {
      const where: string[] = [];
      const args: Record<string, unknown> = {};
      if (q.image !== undefined) {
        where.push('nodes.image = @image');
        args.image = q.image;
      }
      if (q.enabled !== undefined) {
        where.push('enabled = @enabled');
        args.enabled = q.enabled ? 1 : 0;
      }
      if (q.state) {
        where.push(STATE_SQL[q.state.is]);
        args.now = q.state.now;
        args.stuck = q.state.stuckAfterMs;
      }
      if (q.search) {
        where.push("(instr(fqdn, @s) > 0 OR instr(nodes.mac, @s) > 0 OR instr(ipv4, @s) > 0 OR instr(coalesce(nodes.image,''), @s) > 0)");
        args.s = q.search.toLowerCase();
      }
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const col = SORT_COLUMNS[q.sort ?? 'fqdn'];
      const dir = q.order === 'desc' ? 'DESC' : 'ASC';
      const from = 'nodes LEFT JOIN boot_status bs ON bs.mac = nodes.mac';
      const total = (db.prepare(`SELECT count(*) AS n FROM ${from} ${w}`).get(args) as { n: number }).n;
      const rows = db
        .prepare(`SELECT nodes.* FROM ${from} ${w} ORDER BY ${col} ${dir}, nodes.id ${dir} LIMIT @limit OFFSET @offset`)
        .all({ ...args, limit: q.limit, offset: q.offset }) as Row[];
      return { items: rows.map(fromRow), total };
    },
    async all() {
      return all.all().map(fromRow);
    },
    async create(f) {
      return changed(() => insertOne(f));
    },
    async createMany(list) {
      return changed(() => insertMany(list));
    },
    async update(id, f) {
      return changed(() => {
        try {
          upd.run({ ...params(f), id, now: now() });
        } catch (e) {
          throw uniqueViolation(e) ?? e;
        }
        return fromRow(byId.get(id)!);
      });
    },
    async delete(id) {
      return changed(() => del.run(id).changes > 0);
    },
    async count() {
      return count.get()!.n;
    },
  };
}
