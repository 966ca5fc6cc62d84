/**
 * HTTP Range and validators for file responses (RFC 9110 sections 13-14). Pure. Only single byte
 * ranges are honoured; a multi-range or malformed header is ignored (the whole file is sent),
 * which RFC 9110 14.2 allows ("A server MAY ignore the Range header field").
 */
import type { Stats } from 'node:fs';

export type RangeResult = { start: number; end: number } | 'unsatisfiable' | null;

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    // Suffix range: the last b bytes.
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return null; // invalid: ignore
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Strong validator from identity, size and mtime (the same idea as nginx's ETag). */
export function etagOf(st: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

/** If-None-Match matches (weak comparison, RFC 9110 13.1.2): true = answer 304. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === bare(etag));
}

/** If-Range: the range applies only if the validator still matches (strong comparison). */
export function ifRangeAllows(header: string | undefined, etag: string, mtimeMs: number): boolean {
  if (!header) return true;
  const h = header.trim();
  if (h.startsWith('"') || h.startsWith('W/')) return h === etag;
  const t = Date.parse(h);
  return !Number.isNaN(t) && Math.floor(mtimeMs / 1000) * 1000 <= t;
}
