/**
 * SSH public key blobs (RFC 4253 section 6.6: string key-type, then type-specific fields) and
 * what OpenSSH shows for them: `SHA256:<base64 without padding>` fingerprints and known_hosts lines.
 */
import { createHash } from 'node:crypto';

/** The key type named at the start of a public key blob, e.g. "ssh-ed25519". */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) throw new Error('host key: blob shorter than its type length');
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) throw new Error(`host key: bad type length ${n}`);
  const t = blob.subarray(4, 4 + n).toString('latin1');
  if (!/^[a-z0-9@.-]+$/.test(t)) throw new Error(`host key: bad type ${JSON.stringify(t)}`);
  return t;
}

/** OpenSSH's default fingerprint (ssh-keygen -lf, the "SHA256:..." shown on first connect). */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** known_hosts host field: bare host for port 22, `[host]:port` otherwise (sshd(8) SSH_KNOWN_HOSTS). */
export function knownHostsName(address: string, port: number): string {
  const a = address.toLowerCase();
  return port === 22 ? a : `[${a}]:${port}`;
}

export function knownHostsLine(address: string, port: number, blob: Buffer): string {
  return `${knownHostsName(address, port)} ${keyType(blob)} ${blob.toString('base64')}`;
}

export interface KnownHostEntry {
  name: string;
  type: string;
  blob: Buffer;
}

/** Parses the lines netroot writes (no hashed names, no markers); other lines are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('@') || t.startsWith('|')) continue;
    const [name, type, b64] = t.split(/\s+/);
    if (!name || !type || !b64) continue;
    const blob = Buffer.from(b64, 'base64');
    try {
      if (keyType(blob) !== type) continue;
    } catch {
      continue;
    }
    out.push({ name, type, blob });
  }
  return out;
}
