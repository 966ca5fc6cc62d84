/** The DHCP pool's leases in SQLite (pxe/dhcp LeaseStore contract: each call one transaction). */
import type Database from 'better-sqlite3';
import type { Lease, LeaseStore, PoolRange } from '../../../pxe/dhcp/leases.js';
import { intToIp, ipToInt } from '../../../pxe/net/ipv4.js';

interface Row {
  ip: string;
  ip_num: number;
  mac: string;
  state: Lease['state'];
  expires_at: number;
}

export function sqliteLeases(db: Database.Database): LeaseStore & { all(now: number): Lease[] } {
  const get = db.prepare<[string], Row>('SELECT * FROM leases WHERE ip = ?');
  const put = db.prepare(
    `INSERT INTO leases (ip, ip_num, mac, state, expires_at) VALUES (@ip, @num, @mac, @state, @exp)
     ON CONFLICT(ip) DO UPDATE SET mac = excluded.mac, state = excluded.state, expires_at = excluded.expires_at`,
  );
  const del = db.prepare<[string]>('DELETE FROM leases WHERE ip = ?');
  const dropOthers = db.prepare<[string, string, number, number]>('DELETE FROM leases WHERE mac = ? AND ip != ? AND ip_num BETWEEN ? AND ?');
  const mine = db.prepare<[string, number, number, number], Row>(
    "SELECT * FROM leases WHERE mac = ? AND state != 'declined' AND expires_at > ? AND ip_num BETWEEN ? AND ? ORDER BY expires_at DESC LIMIT 1",
  );
  const takenIn = db.prepare<[number, number, number], { ip_num: number }>('SELECT ip_num FROM leases WHERE expires_at > ? AND ip_num BETWEEN ? AND ? ORDER BY ip_num');
  const all = db.prepare<[number], Row>('SELECT * FROM leases WHERE expires_at > ? ORDER BY ip_num');

  const range = (p: PoolRange) => [ipToInt(p.start), ipToInt(p.end)] as const;
  const live = (ip: string, now: number) => {
    const r = get.get(ip);
    return r && r.expires_at > now ? r : null;
  };
  const freeFor = (ip: string, mac: string, now: number) => {
    const l = live(ip, now);
    return l === null || (l.mac === mac && l.state !== 'declined');
  };
  const inRange = (ip: string, p: PoolRange) => {
    const n = ipToInt(ip);
    const [a, b] = range(p);
    return n >= a && n <= b;
  };
  const toLease = (r: Row): Lease => ({ ip: r.ip, mac: r.mac, state: r.state, expiresAt: r.expires_at });

  const find = (mac: string, pool: PoolRange, now: number) => {
    const [a, b] = range(pool);
    const r = mine.get(mac, now, a, b);
    return r ? toLease(r) : null;
  };
  const offer = db.transaction((mac: string, pool: PoolRange, requested: string | null, holdSec: number, now: number): string | null => {
    const hold = (ip: string) => {
      const cur = live(ip, now);
      const bound = cur?.state === 'bound';
      // Offering never shortens a bound lease of the same client.
      put.run({ ip, num: ipToInt(ip), mac, state: bound ? 'bound' : 'offered', exp: Math.max(now + holdSec * 1000, bound ? cur!.expires_at : 0) });
      return ip;
    };
    const m = find(mac, pool, now);
    if (m) return hold(m.ip);
    if (requested && inRange(requested, pool) && freeFor(requested, mac, now)) return hold(requested);
    const [a, b] = range(pool);
    let n = a;
    for (const t of takenIn.all(now, a, b)) {
      if (t.ip_num > n) break;
      n = t.ip_num + 1;
    }
    return n <= b ? hold(intToIp(n)) : null;
  });
  const bind = db.transaction((mac: string, ip: string, pool: PoolRange, leaseSec: number, now: number): boolean => {
    if (!inRange(ip, pool) || !freeFor(ip, mac, now)) return false;
    // One address per client and pool: a bind frees the MAC's other offers and leases.
    dropOthers.run(mac, ip, ...range(pool));
    put.run({ ip, num: ipToInt(ip), mac, state: 'bound', exp: now + leaseSec * 1000 });
    return true;
  });
  const release = db.transaction((mac: string, ip: string) => {
    const r = get.get(ip);
    if (r && r.mac === mac) del.run(ip);
  });
  const decline = db.transaction((mac: string, ip: string, holdSec: number, now: number) => {
    // Only the holder (or nobody) can take an address out of use.
    if (!freeFor(ip, mac, now)) return;
    put.run({ ip, num: ipToInt(ip), mac: '', state: 'declined', exp: now + holdSec * 1000 });
  });

  return {
    async offer(mac, pool, requested, holdSec, now) {
      return offer(mac, pool, requested, holdSec, now);
    },
    async bind(mac, ip, pool, leaseSec, now) {
      return bind(mac, ip, pool, leaseSec, now);
    },
    async release(mac, ip) {
      release(mac, ip);
    },
    async decline(mac, ip, holdSec, now) {
      decline(mac, ip, holdSec, now);
    },
    async find(mac, pool, now) {
      return find(mac, pool, now);
    },
    all(now) {
      return all.all(now).map(toLease);
    },
  };
}
