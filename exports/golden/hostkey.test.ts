import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintSha256, keyType, knownHostsLine, parseKnownHosts } from './hostkey.js';
import { pinKey, pinnedKey, unpinKey } from './knownhosts.js';
import { shellJoin } from './shell.js';
import { runCommand } from '../runner.js';

// A real ed25519 public key and its fingerprint as ssh-keygen -lf prints it.
async function realKey(dir: string): Promise<{ blob: Buffer; fp: string }> {
  await runCommand(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
  const pub = await readFile(join(dir, 'k.pub'), 'utf8');
  const fp = (await runCommand(['ssh-keygen', '-lf', join(dir, 'k.pub')])).stdout.split(' ')[1]!;
  return { blob: Buffer.from(pub.split(' ')[1]!, 'base64'), fp };
}

test('fingerprintSha256 matches ssh-keygen -lf; keyType reads the blob', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-hk-'));
  try {
    const { blob, fp } = await realKey(dir);
    assert.equal(fingerprintSha256(blob), fp);
    assert.equal(keyType(blob), 'ssh-ed25519');
    assert.throws(() => keyType(Buffer.from([0, 0, 0, 99, 1])), /host key/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('known_hosts: pin, look up by host:port, replace, keep other lines, unpin', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-hk-'));
  try {
    const a = await realKey(dir);
    await rm(join(dir, 'k')); await rm(join(dir, 'k.pub'));
    const b = await realKey(dir);
    const kh = join(dir, 'known_hosts');
    await writeFile(kh, '# admin comment\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n');
    await pinKey(kh, '127.0.0.1', 2222, a.blob);
    assert.ok((await pinnedKey(kh, '127.0.0.1', 2222))!.equals(a.blob));
    assert.equal(await pinnedKey(kh, '127.0.0.1', 22), null);
    await pinKey(kh, '127.0.0.1', 2222, b.blob);
    assert.ok((await pinnedKey(kh, '127.0.0.1', 2222))!.equals(b.blob));
    const text = await readFile(kh, 'utf8');
    assert.match(text, /^# admin comment$/m);
    assert.equal(text.split('\n').filter((l) => l.startsWith('[127.0.0.1]:2222 ')).length, 1);
    assert.equal(parseKnownHosts(text).length, 2);
    assert.equal(knownHostsLine('H', 22, a.blob).split(' ')[0], 'h');
    await unpinKey(kh, '127.0.0.1', 2222);
    assert.equal(await pinnedKey(kh, '127.0.0.1', 2222), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('shellJoin quotes so the remote shell sees the same argv', async () => {
  const argv = ['printf', '%s|', "it's", 'a b', '$HOME', '', '-a "nfs network"'];
  const r = await runCommand(['sh', '-c', shellJoin(argv)]);
  assert.equal(r.stdout, "it's|a b|$HOME||-a \"nfs network\"|");
});
