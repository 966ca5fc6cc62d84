/**
 * Configuration reload (SIGHUP, `netroot reload`, POST /api/v1/reload): a new config is read and
 * checked in full first; a bad one is refused naming the field and the running config stays.
 * Boot services take the new settings in place (the DHCP server is rebuilt, TFTP transfers in
 * flight carry on); settings that need a restart are named in the result.
 */
import type { Config } from './config/schema.js';

/** Sections that only a restart can change (sockets bound at start, store location, NFS backend). */
const RESTART_ONLY: (keyof Config)[] = ['dataDir', 'http', 'nfs'];

/** Settings inside live sections that still need a restart (a bound socket). */
const RESTART_FIELDS: [keyof Config, string][] = [
  ['tftp', 'listen'],
  ['tftp', 'port'],
  ['tftp', 'enabled'],
  ['tftp', 'workers'],
];

export function restartNeeded(current: Config, next: Config): string[] {
  const out = RESTART_ONLY.filter((k) => JSON.stringify(current[k]) !== JSON.stringify(next[k])).map(String);
  for (const [section, field] of RESTART_FIELDS) {
    const a = (current[section] as Record<string, unknown>)[field];
    const b = (next[section] as Record<string, unknown>)[field];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${section}.${field}`);
  }
  return out;
}

export interface ReloadResult {
  /** Sections whose new values took effect. */
  applied: string[];
  /** Sections that changed but wait for a restart. */
  restartNeeded: string[];
}

export function changedSections(current: Config, next: Config): string[] {
  return (Object.keys(next) as (keyof Config)[]).filter((k) => JSON.stringify(current[k]) !== JSON.stringify(next[k])).map(String);
}
