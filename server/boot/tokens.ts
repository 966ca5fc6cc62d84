/**
 * Per-boot report tokens (pxe/boot/events.ts BootTokens): made when a node's boot script is
 * served, written into its state directory (exports/state/boot-token.ts), checked when a
 * "booted" report does not come from the node's registered address.
 *
 * Kept in memory: a restart between a script and its report loses the token, and that report is
 * then judged by its address alone. The current and the previous token of each MAC are accepted
 * (a second script fetch must not strand the boot that fetched the first), and a token is reused
 * for reuseMs: script fetches are unauthenticated, and a loop of them must not turn into a loop
 * of file writes.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { BootTokens } from '../../pxe/boot/events.js';

export interface BootTokenOptions {
  /** Puts the token where only the node can read it; false when it has nowhere to go. */
  write(fqdn: string, token: string): Promise<boolean>;
  reuseMs?: number;
  /** Tokens older than this are not accepted. */
  maxAgeMs?: number;
  /** Most MACs remembered (the oldest go). */
  maxNodes?: number;
  now?: () => number;
}

interface Issued {
  token: string;
  at: number;
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export class MemoryBootTokens implements BootTokens {
  private readonly byMac = new Map<string, { cur: Issued; prev: Issued | null }>();
  private readonly now: () => number;

  constructor(private readonly o: BootTokenOptions) {
    this.now = o.now ?? Date.now;
  }

  async issue(node: { mac: string; fqdn: string; stateMode?: 'nfs' | 'local' }): Promise<void> {
    if (node.stateMode === 'local') return; // no state directory on netroot to carry it
    const t = this.now();
    const had = this.byMac.get(node.mac);
    if (had && t - had.cur.at < (this.o.reuseMs ?? 60_000)) return;
    const token = randomBytes(24).toString('base64url');
    // Remembered before the write: the node cannot read it before the write lands anyway.
    this.byMac.delete(node.mac);
    if (this.byMac.size >= (this.o.maxNodes ?? 100_000)) this.byMac.delete(this.byMac.keys().next().value!);
    this.byMac.set(node.mac, { cur: { token, at: t }, prev: had?.cur ?? null });
    await this.o.write(node.fqdn, token);
  }

  verify(mac: string, token: string): boolean {
    const e = this.byMac.get(mac);
    if (!e) return false;
    const fresh = (i: Issued | null) => i !== null && this.now() - i.at <= (this.o.maxAgeMs ?? 24 * 3600_000) && same(i.token, token);
    return fresh(e.cur) || fresh(e.prev);
  }
}
