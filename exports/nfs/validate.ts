/**
 * Validation of everything that ends up in an exports file or a state path. exports(5) splits on
 * whitespace, treats `#` as a comment, `(`/`)` as option brackets, `"` as quoting and `\` as an
 * escape; Ganesha's parser has its own quoting. Rather than escape, netroot refuses anything outside
 * a small safe alphabet, and names the field.
 */
import { ExportInputError } from './errors.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PATH_CHARS = /^[A-Za-z0-9._+@/-]+$/;
const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const OPTION = /^[a-z_0-9]+(=[A-Za-z0-9_.:/-]+)?$/;

function describeBadChars(s: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return 'contains a control character';
  if (/\s/.test(s)) return 'contains whitespace';
  if (/["'`]/.test(s)) return 'contains a quote';
  return null;
}

/** A node FQDN as a state directory name: lowercase DNS labels, so never `.`, `..` or a `/`. */
export function validateFqdn(fqdn: string, field = 'fqdn'): string {
  if (typeof fqdn !== 'string' || fqdn.length === 0) throw new ExportInputError(field, 'empty');
  const bad = describeBadChars(fqdn);
  if (bad) throw new ExportInputError(field, `${bad}: ${JSON.stringify(fqdn)}`);
  if (fqdn.includes('/')) throw new ExportInputError(field, `contains '/': ${JSON.stringify(fqdn)}`);
  if (fqdn.includes('..')) throw new ExportInputError(field, `contains '..': ${JSON.stringify(fqdn)}`);
  if (fqdn !== fqdn.toLowerCase()) throw new ExportInputError(field, `must be lowercase: ${JSON.stringify(fqdn)}`);
  if (fqdn.length > 253) throw new ExportInputError(field, 'longer than 253 characters');
  for (const label of fqdn.split('.')) {
    if (!LABEL.test(label)) throw new ExportInputError(field, `not a valid DNS name: ${JSON.stringify(fqdn)}`);
  }
  return fqdn;
}

/** An absolute, normalised directory path that exports(5) and Ganesha take verbatim. */
export function validateExportPath(path: string, field = 'path'): string {
  if (typeof path !== 'string' || path.length === 0) throw new ExportInputError(field, 'empty');
  const bad = describeBadChars(path);
  if (bad) throw new ExportInputError(field, `${bad}: ${JSON.stringify(path)}`);
  if (!path.startsWith('/')) throw new ExportInputError(field, `must be absolute: ${JSON.stringify(path)}`);
  if (path === '/') throw new ExportInputError(field, 'must not be /');
  if (path.length > 1024) throw new ExportInputError(field, 'longer than 1024 characters');
  if (!PATH_CHARS.test(path)) throw new ExportInputError(field, `has characters outside [A-Za-z0-9._+@/-]: ${JSON.stringify(path)}`);
  const parts = path.split('/').slice(1);
  if (parts.some((p) => p === '')) throw new ExportInputError(field, `empty component or trailing '/': ${JSON.stringify(path)}`);
  if (parts.some((p) => p === '.' || p === '..')) throw new ExportInputError(field, `contains '.' or '..': ${JSON.stringify(path)}`);
  return path;
}

export function isIPv4(s: string): boolean {
  return QUAD.test(s);
}

export function validateIPv4(ip: string, field = 'ipv4'): string {
  if (typeof ip !== 'string' || !QUAD.test(ip)) throw new ExportInputError(field, `not a dotted-quad IPv4 address: ${JSON.stringify(ip)}`);
  if (ip === '0.0.0.0' || ip === '255.255.255.255') throw new ExportInputError(field, `not a host address: ${ip}`);
  return ip;
}

function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** A CIDR with zero host bits, or a single address (kept as given). */
export function validateNetwork(net: string, field = 'network'): string {
  if (typeof net !== 'string') throw new ExportInputError(field, 'not a string');
  if (QUAD.test(net)) return net;
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(net);
  if (!m || !QUAD.test(m[1]!) || Number(m[2]) > 32) throw new ExportInputError(field, `not an IPv4 CIDR: ${JSON.stringify(net)}`);
  const prefix = Number(m[2]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((ipToInt(m[1]!) & ~mask) >>> 0 !== 0) throw new ExportInputError(field, `host bits set in ${net}`);
  return net;
}

/** Sort key for addresses/CIDRs: numeric address, then prefix length. */
export function networkSortKey(net: string): [number, number] {
  const [ip, prefix] = net.split('/');
  return [ipToInt(ip!), prefix === undefined ? 32 : Number(prefix)];
}

/** exports(5) options: exactly one of ro/rw, each a bare keyword or keyword=value. */
export function validateOptions(options: readonly string[], field: string): { access: 'ro' | 'rw'; options: string[] } {
  if (!Array.isArray(options) || options.length === 0) throw new ExportInputError(field, 'empty option list');
  const seen = new Set<string>();
  for (const [i, o] of options.entries()) {
    if (typeof o !== 'string' || !OPTION.test(o)) throw new ExportInputError(`${field}[${i}]`, `not an exports(5) option: ${JSON.stringify(o)}`);
    const key = o.split('=')[0]!;
    if (seen.has(key)) throw new ExportInputError(`${field}[${i}]`, `duplicate option ${key}`);
    seen.add(key);
  }
  const ro = seen.has('ro');
  const rw = seen.has('rw');
  if (ro === rw) throw new ExportInputError(field, 'needs exactly one of ro or rw');
  return { access: ro ? 'ro' : 'rw', options: [...options] };
}

/** True if `child` is `parent` or lies below it (both normalised absolute paths). */
export function isSameOrUnder(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}
