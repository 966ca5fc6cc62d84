/** A node's boot state as admins want to see it, derived from its timeline summary. */
import type { BootStatus } from '../store/types.js';

export type BootState = 'booted' | 'booting' | 'stuck' | 'never';

export function bootState(s: BootStatus | undefined, now: number, stuckAfterMs: number): BootState {
  if (!s) return 'never';
  if (s.bootedAt !== null && s.bootedAt >= (s.startedAt ?? 0)) return 'booted';
  return now - s.lastAt > stuckAfterMs ? 'stuck' : 'booting';
}
