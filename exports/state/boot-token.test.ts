import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOT_TOKEN_FILE, writeBootToken } from './boot-token.js';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv_-12';

test('the boot token is written 0600 into the node state directory, replacing the last one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nrtok-'));
  try {
    const state = join(root, 'state');
    mkdirSync(join(state, 'n1.lab.example'), { recursive: true });
    assert.equal(await writeBootToken(state, 'n1.lab.example', TOKEN), true);
    const f = join(state, 'n1.lab.example', BOOT_TOKEN_FILE);
    assert.equal(readFileSync(f, 'utf8'), `${TOKEN}\n`);
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.equal(await writeBootToken(state, 'n1.lab.example', `${TOKEN}x`), true);
    assert.equal(readFileSync(f, 'utf8'), `${TOKEN}x\n`);
    assert.deepEqual(readdirSync(join(state, 'n1.lab.example')), [BOOT_TOKEN_FILE], 'no temporary file left');
    assert.equal(await writeBootToken(state, 'nostate.lab.example', TOKEN), false, 'no state directory: nothing written');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a symlink planted by the node under the token name is replaced, never followed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nrtok-'));
  try {
    const state = join(root, 'state');
    const node = join(state, 'n1.lab.example');
    mkdirSync(node, { recursive: true });
    const victim = join(root, 'victim');
    writeFileSync(victim, 'server file\n');
    symlinkSync(victim, join(node, BOOT_TOKEN_FILE));
    assert.equal(await writeBootToken(state, 'n1.lab.example', TOKEN), true);
    assert.equal(readFileSync(victim, 'utf8'), 'server file\n', 'the link target is untouched');
    assert.equal(readFileSync(join(node, BOOT_TOKEN_FILE), 'utf8'), `${TOKEN}\n`);
    // The state directory itself as a symlink (planted on the server side) is refused.
    symlinkSync(root, join(state, 'n2.lab.example'));
    await assert.rejects(writeBootToken(state, 'n2.lab.example', TOKEN), /not a plain directory/);
    // A directory planted under the token name: refused, nothing written inside it.
    mkdirSync(join(state, 'n3.lab.example', BOOT_TOKEN_FILE), { recursive: true });
    writeFileSync(join(state, 'n3.lab.example', BOOT_TOKEN_FILE, 'x'), '');
    await assert.rejects(writeBootToken(state, 'n3.lab.example', TOKEN), /cannot place/);
    await assert.rejects(writeBootToken(state, '../etc', TOKEN));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
