/**
 * netroot's own SSH key pair: ed25519, created once by ssh-keygen (OpenSSH format, readable by
 * both ssh2 and the OpenSSH client rsync uses), public key shown to the admin to authorise.
 */
import { readFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, type Runner } from '../runner.js';
import { fingerprintSha256 } from './hostkey.js';

export interface KeyPair {
  privateKeyPath: string;
  /** One line, `ssh-ed25519 AAAA... netroot`, for authorized_keys. */
  publicKey: string;
  fingerprint: string;
}

export const KEY_FILE = 'id_ed25519';

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Loads the pair in dir, creating it at first use. */
export async function ensureKeyPair(dir: string, runner: Runner = runCommand, comment = 'netroot'): Promise<KeyPair> {
  const priv = join(dir, KEY_FILE);
  if (!(await exists(priv))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await runner(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', priv], { timeoutMs: 30_000 });
  }
  const publicKey = (await readFile(`${priv}.pub`, 'utf8')).trim();
  const b64 = publicKey.split(/\s+/)[1];
  if (!b64) throw new Error(`${priv}.pub: not an OpenSSH public key`);
  return { privateKeyPath: priv, publicKey, fingerprint: fingerprintSha256(Buffer.from(b64, 'base64')) };
}
