import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinKey } from './knownhosts.js';
import { openSession } from './session.js';
import { GoldenError } from './errors.js';
import { ensureKeyPair } from './keys.js';

/** An OpenSSH ed25519 key blob (string "ssh-ed25519", string key). */
function ed25519Blob(): Buffer {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

test('a golden host that resets before its banner is an "unreachable" error, never an unheard one that ends the service', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nr-session-'));
  // Accepts, reads the client's banner, then resets: ssh2 reports the reset, then "Connection lost
  // before handshake" (two errors).
  const server = createServer((s: Socket) => void s.once('data', () => s.resetAndDestroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const unheard: Error[] = [];
  const onUncaught = (e: Error) => unheard.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    await ensureKeyPair(dir);
    await pinKey(join(dir, 'known_hosts'), '127.0.0.1', port, ed25519Blob());
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        openSession({ name: 'g1', address: '127.0.0.1', port, user: 'root', sourcePath: '/' }, { privateKeyPath: join(dir, 'id_ed25519'), knownHostsPath: join(dir, 'known_hosts') }),
        (e: unknown) => e instanceof GoldenError && e.code === 'unreachable',
      );
    }
    // Whatever ssh2 emits after the rejection must have a listener.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(unheard.map((e) => e.message), []);
  } finally {
    process.off('uncaughtException', onUncaught);
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
