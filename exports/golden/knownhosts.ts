/**
 * The known_hosts file netroot keeps: one pinned key per golden host (host:port), read by ssh2's
 * hostVerifier and by the OpenSSH client that runs rsync (UserKnownHostsFile=, StrictHostKeyChecking=yes).
 * Written atomically; lines for other hosts are kept as they are.
 */
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { knownHostsLine, knownHostsName, parseKnownHosts } from './hostkey.js';

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}

/** The pinned key blob for host:port, or null. */
export async function pinnedKey(path: string, address: string, port: number): Promise<Buffer | null> {
  const name = knownHostsName(address, port);
  return parseKnownHosts(await readText(path)).find((e) => e.name === name)?.blob ?? null;
}

/** Pins blob for host:port, replacing any key pinned before (the admin confirmed it). */
export async function pinKey(path: string, address: string, port: number, blob: Buffer): Promise<void> {
  const name = knownHostsName(address, port);
  const kept = (await readText(path)).split('\n').filter((l) => l.trim() && l.trim().split(/\s+/)[0] !== name);
  await writeAtomic(path, [...kept, knownHostsLine(address, port, blob), ''].join('\n'));
}

export async function unpinKey(path: string, address: string, port: number): Promise<void> {
  const name = knownHostsName(address, port);
  const kept = (await readText(path)).split('\n').filter((l) => l.trim() && l.trim().split(/\s+/)[0] !== name);
  await writeAtomic(path, kept.length ? [...kept, ''].join('\n') : '');
}
