/** Archive names `<fqdn>-<UTC timestamp>[-n]` under `state/.archive/`. Pure. */

export interface ArchiveName {
  name: string;
  fqdn: string;
  /** ISO time the directory was archived. */
  archivedAt: string;
}

/** 2026-11-26T15:33:00.123Z -> 20261126T153300Z: sortable, no ':' (safe in paths and exports). */
export function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

export function archiveName(fqdn: string, at: Date, n = 1): string {
  return `${fqdn}-${stamp(at)}${n > 1 ? `-${n}` : ''}`;
}

const NAME = /^([a-z0-9.-]+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-(\d+))?$/;

export function parseArchiveName(name: string): ArchiveName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const [, fqdn, y, mo, d, h, mi, s] = m;
  return { name, fqdn: fqdn!, archivedAt: `${y}-${mo}-${d}T${h}:${mi}:${s}Z` };
}
