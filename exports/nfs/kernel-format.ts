/**
 * exports(5) text: netroot's rendering of the table, and a reader for exports files netroot does
 * not own (conflict detection) and for exportfs's etab (readback). Pure.
 */
import type { ExportTable } from './types.js';

export const KERNEL_HEADER = [
  '# Managed by netroot: rendered from its node registry and rewritten on every apply.',
  '# Do not edit; changes here are lost. Exports in other files are never touched by netroot.',
];

/** Clients per physical line: the images export lists every node address (10,000 of them), and
 * exportfs reads one entry over `\`-continued lines. */
export const CLIENTS_PER_LINE = 8;

export function renderKernelExports(table: ExportTable): string {
  const lines = [...KERNEL_HEADER];
  for (const e of table.entries) {
    const label = e.kind === 'images' ? 'images (read-only root trees)' : `state of ${e.fqdn ?? '?'}`;
    lines.push(`# ${label}`);
    const items = e.clients.map((c) => `${c.host}(${c.options.join(',')})`);
    const rows: string[] = [];
    for (let i = 0; i < items.length; i += CLIENTS_PER_LINE) rows.push(items.slice(i, i + CLIENTS_PER_LINE).join(' '));
    lines.push(`${e.path} ${rows.join(' \\\n\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface ParsedExport {
  path: string;
  /** 1-based line where the entry starts. */
  line: number;
  clients: { host: string; options: string[] }[];
  text: string;
}

/** exports(5) octal escapes (`\040` for a space) and double quotes around a path. */
function unescapePath(p: string): string {
  let s = p;
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1);
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function normalise(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** Splits a line on whitespace outside double quotes and outside (...) option lists. */
function tokens(line: string): string[] {
  // Slices rather than one character at a time: netroot's own file holds a line of 10,000
  // clients, read back at every health check.
  const out: string[] = [];
  let start = -1;
  let quote = false;
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) quote = !quote; // "
    else if (!quote && c === 40) depth++; // (
    else if (!quote && c === 41) depth = Math.max(0, depth - 1); // )
    const space = c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(line[i]!));
    if (!quote && depth === 0 && space) {
      if (start >= 0) out.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(line.slice(start));
  return out;
}

/**
 * Reads an exports file as exportfs does: `#` comments, `\` line continuations, a path then
 * `host(options)` items; a leading `-opts` item sets defaults for the line. Unparseable lines are
 * skipped (exportfs reports them itself).
 */
export function parseExportsFile(text: string): ParsedExport[] {
  const out: ParsedExport[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    // Parts joined once: netroot's images line continues over 1,250 lines for 10,000 nodes, and
    // growing one string line by line copies it as many times.
    const parts = [raw[i]!];
    while (parts[parts.length - 1]!.endsWith('\\') && i + 1 < raw.length) {
      parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -1);
      parts.push(raw[++i]!);
    }
    const line = parts.join(' ');
    const hash = line.indexOf('#');
    const body = (hash >= 0 ? line.slice(0, hash) : line).trim();
    if (!body) continue;
    const [first, ...rest] = tokens(body);
    if (!first || !(first.startsWith('/') || first.startsWith('"/'))) continue;
    let defaults: string[] = [];
    const clients: ParsedExport['clients'] = [];
    for (const t of rest) {
      if (t.startsWith('-')) {
        defaults = t.slice(1).split(',').filter(Boolean);
        continue;
      }
      const m = /^([^()]*)(?:\(([^)]*)\))?$/.exec(t);
      if (!m) continue;
      clients.push({ host: m[1] || '*', options: [...defaults, ...(m[2] ?? '').split(',').filter(Boolean)] });
    }
    if (clients.length === 0) clients.push({ host: '*', options: defaults });
    out.push({ path: normalise(unescapePath(first)), line: start + 1, clients, text: body });
  }
  return out;
}

export interface EtabEntry {
  path: string;
  host: string;
  options: string[];
}

/** /var/lib/nfs/etab: one `path<TAB>host(options)` per line, as exportfs last applied them. */
export function parseEtab(text: string): EtabEntry[] {
  const out: EtabEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+([^(\s]*)\(([^)]*)\)\s*$/.exec(line);
    if (!m) continue;
    out.push({ path: normalise(unescapePath(m[1]!)), host: m[2]!, options: m[3]!.split(',').filter(Boolean) });
  }
  return out;
}
