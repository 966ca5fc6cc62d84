// Pure helpers for bulk import: CSV (RFC 4180 quoting) or JSON text -> node bodies, and the
// preview (new rows vs conflicts with existing nodes and with each other).

/** RFC 4180 CSV -> array of rows (arrays of strings). Quotes may hold commas, newlines and "". */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') row.push(cell.trim()), (cell = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell.trim());
      if (row.some((x) => x !== '')) rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (quoted) throw new Error('CSV: a quoted value is not closed');
  row.push(cell.trim());
  if (row.some((x) => x !== '')) rows.push(row);
  return rows;
}

// The same header aliases as the CLI's import (server/registry/import.ts).
const ALIASES = {
  ip: 'ipv4', ipaddr: 'ipv4', address: 'ipv4', hostname: 'fqdn', host: 'fqdn', args: 'kernelArgs',
  kernel_args: 'kernelArgs', kernelargs: 'kernelArgs', boot_mode: 'bootMode', bootmode: 'bootMode',
  state_mode: 'stateMode', statemode: 'stateMode', pinned_version: 'pinnedVersion',
  pinnedversion: 'pinnedVersion', pin: 'pinnedVersion', mac: 'mac', fqdn: 'fqdn', ipv4: 'ipv4',
  image: 'image', enabled: 'enabled',
};
const BOOL = { true: true, yes: true, 1: true, on: true, false: false, no: false, 0: false, off: false };

/** Pasted text (JSON array or CSV with a header row) -> node create bodies. Throws naming the line. */
export function parseNodeList(text) {
  const t = text.trim();
  if (!t) throw new Error('nothing pasted');
  if (t.startsWith('[') || t.startsWith('{')) {
    let v;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new Error(`JSON: ${e.message}`);
    }
    if (!Array.isArray(v)) throw new Error('JSON: expected an array of nodes');
    v.forEach((x, i) => {
      if (!x || typeof x !== 'object' || Array.isArray(x)) throw new Error(`JSON: item [${i}] is not an object`);
    });
    return v;
  }
  const rows = parseCsv(t);
  const header = rows.shift().map((k) => ALIASES[k.toLowerCase()] ?? k);
  if (!header.includes('mac')) throw new Error('CSV: the first line must be a header naming the columns (mac,fqdn,ipv4,image,...)');
  return rows.map((r, i) => {
    if (r.length > header.length) throw new Error(`CSV line ${i + 2}: ${r.length} values for ${header.length} columns`);
    const out = {};
    header.forEach((k, j) => {
      const v = r[j] ?? '';
      if (v === '') return;
      out[k] = k === 'enabled' ? (BOOL[v.toLowerCase()] ?? v) : v;
    });
    return out;
  });
}

/** MAC in any common notation -> aa:bb:cc:dd:ee:ff, or null. */
export function normalizeMac(s) {
  const hex = String(s ?? '').toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || !/^[0-9a-f:.\-\s]+$/i.test(String(s))) return null;
  return hex.match(/../g).join(':');
}
const normFqdn = (s) => String(s ?? '').trim().toLowerCase().replace(/\.$/, '');

/**
 * Classifies each row against the existing nodes: 'new', 'same' (identical to an existing node:
 * nothing to do) or 'conflict' with the reason. Duplicates inside the list are conflicts too.
 */
export function previewImport(rows, existing) {
  const byMac = new Map(existing.map((n) => [n.mac, n]));
  const byFqdn = new Map(existing.map((n) => [n.fqdn, n]));
  const byIp = new Map(existing.map((n) => [n.ipv4, n]));
  const seen = { mac: new Map(), fqdn: new Map(), ipv4: new Map() };
  return rows.map((row, i) => {
    const mac = normalizeMac(row.mac);
    const fqdn = normFqdn(row.fqdn);
    const ip = String(row.ipv4 ?? '').trim();
    const keys = { mac: mac ?? String(row.mac ?? ''), fqdn, ipv4: ip };
    for (const f of ['mac', 'fqdn', 'ipv4']) {
      const j = seen[f].get(keys[f]);
      if (keys[f] && j !== undefined) return { row, status: 'conflict', reason: `${f} ${keys[f]} also on row ${j + 1}` };
      if (keys[f]) seen[f].set(keys[f], i);
    }
    const m = mac && byMac.get(mac);
    if (m) {
      const diffs = ['fqdn', 'ipv4', 'image', 'pinnedVersion', 'kernelArgs', 'bootMode', 'stateMode', 'enabled'].filter((k) => {
        if (!(k in row)) return false;
        const want = k === 'fqdn' ? fqdn : row[k];
        return String(want ?? '') !== String(m[k] ?? '');
      });
      if (diffs.length === 0) return { row, status: 'same', reason: `already registered as ${m.fqdn}` };
      return { row, status: 'conflict', reason: `MAC already registered as ${m.fqdn}; would change ${diffs.map((k) => `${k} ${m[k] ?? '—'} → ${k === 'fqdn' ? fqdn : row[k]}`).join(', ')}` };
    }
    const f = byFqdn.get(fqdn);
    if (f) return { row, status: 'conflict', reason: `FQDN ${fqdn} is used by ${f.mac}` };
    const p = byIp.get(ip);
    if (p) return { row, status: 'conflict', reason: `IP ${ip} is used by ${p.fqdn}` };
    return { row, status: 'new', reason: '' };
  });
}
