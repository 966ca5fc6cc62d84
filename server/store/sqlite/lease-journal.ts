/**
 * The pool's lease journal: an append-only file beside the database, one line per change of an
 * address's lease, written with one write() per batch on the thread that made the change. Once
 * that write has returned, the change is in the kernel's page cache and survives a crash of
 * netroot (kill -9, the OOM killer), which is what Kea's lease file gives; like the WAL at
 * synchronous=NORMAL, a power loss can take the last writes with it. An ACK goes out only after
 * its lease's line is written: a write() of a few hundred bytes on the event loop, where waiting
 * for a SQLite commit meant two trips to the writer thread and, now and then, a WAL checkpoint's
 * fsync (the ACK latency of a boot storm, and its tail whenever the cores were busy).
 *
 * The journal is split in numbered segments (`<base>.<n>`). SQLite is brought up to date behind
 * it (leases.ts); a segment is deleted once every change it holds has committed there. At start
 * the table is read, then every segment in order on top of it (the latest line for an address
 * wins), so the result is the state at the last write whatever SQLite had caught up with.
 *
 * Lines: `+ <ip> <mac or -> <state> <expiresAt ms>` (the lease the address now has) or `- <ip>`
 * (none). Replay of a segment stops at the first line that does not parse: a tail torn by a
 * power loss.
 */
import { closeSync, constants as fsc, fstatSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Lease } from '../../../pxe/dhcp/leases.js';
import type { LeaseChange } from '../../../pxe/dhcp/allocator.js';
import { isIPv4 } from '../../../pxe/net/ipv4.js';

/** A segment is closed and the next begun past this size (closed ones go once SQLite holds them). */
const SEGMENT_BYTES = 4 << 20;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const STATES = new Set<Lease['state']>(['offered', 'bound', 'declined']);

export function changeLine(c: LeaseChange): string {
  if (!c.lease) return `- ${c.ip}\n`;
  return `+ ${c.ip} ${c.lease.mac || '-'} ${c.lease.state} ${c.lease.expiresAt}\n`;
}

/** One line (without its newline) back to a change; null when it is not one. */
export function parseLine(line: string): LeaseChange | null {
  const f = line.split(' ');
  if (f[0] === '-' && f.length === 2 && isIPv4(f[1]!)) return { ip: f[1]!, lease: null };
  if (f[0] !== '+' || f.length !== 5) return null;
  const [, ip, mac, state, exp] = f as [string, string, string, Lease['state'], string];
  const expiresAt = Number(exp);
  if (!isIPv4(ip) || !(mac === '-' || MAC.test(mac)) || !STATES.has(state) || !/^\d{1,16}$/.test(exp)) return null;
  // A declined address has no MAC; every other lease has one.
  if ((mac === '-') !== (state === 'declined')) return null;
  return { ip, lease: { ip, mac: mac === '-' ? '' : mac, state, expiresAt } };
}

export class LeaseJournal {
  private fd: number | null = null;
  private current = 0;
  private size = 0;
  private pending = '';
  private readonly dir: string;
  private readonly prefix: string;

  /** base: the segments' path without the number, e.g. `<dataDir>/netroot.db-leases`. */
  constructor(
    base: string,
    private readonly segmentBytes = SEGMENT_BYTES,
  ) {
    this.dir = dirname(base);
    this.prefix = `${basename(base)}.`;
  }

  /** Segment numbers on disk, oldest first. */
  segments(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.startsWith(this.prefix) && /^\d{1,9}$/.test(n.slice(this.prefix.length)))
      .map((n) => Number(n.slice(this.prefix.length)))
      .sort((a, b) => a - b);
  }

  private path(n: number): string {
    return join(this.dir, `${this.prefix}${n}`);
  }

  /** Every change the segments on disk hold, oldest first. */
  read(): LeaseChange[] {
    const out: LeaseChange[] = [];
    for (const n of this.segments()) {
      const lines = readFileSync(this.path(n), 'latin1').split('\n');
      // The last element is what follows the last newline: empty, or a line cut short.
      for (let i = 0; i < lines.length - 1; i++) {
        const c = parseLine(lines[i]!);
        if (!c) break;
        out.push(c);
      }
    }
    return out;
  }

  /** Begins a segment after every one on disk; returns the older ones' numbers (to retire once SQLite holds them). */
  open(): number[] {
    const older = this.segments();
    this.begin((older.at(-1) ?? 0) + 1);
    return older;
  }

  private begin(n: number): void {
    const fd = openSync(this.path(n), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND, 0o600);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = fd;
    this.current = n;
    this.size = fstatSync(fd).size;
  }

  /** Queues a change for the next write(). */
  add(c: LeaseChange): void {
    this.pending += changeLine(c);
  }

  get buffered(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Appends what was added: one write() (more only if the kernel takes less). Throws on an I/O
   * error; what was not written stays queued, so nothing is written twice or torn.
   */
  write(): void {
    if (!this.pending) return;
    if (this.fd === null) throw new Error('lease journal: not open');
    const data = Buffer.from(this.pending, 'latin1');
    let off = 0;
    try {
      while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    } finally {
      this.pending = data.subarray(off).toString('latin1');
      this.size += off;
    }
  }

  /** Past the size limit, begins the next segment and returns the closed one's number; else null. */
  rotateIfFull(): number | null {
    if (this.fd === null || this.size < this.segmentBytes || this.pending) return null;
    const closed = this.current;
    this.begin(closed + 1);
    return closed;
  }

  /** Deletes the segments up to and including n (SQLite holds what they had). */
  retire(upTo: number): void {
    for (const n of this.segments()) if (n <= upTo && n !== this.current) unlinkSync(this.path(n));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
