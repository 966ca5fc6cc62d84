/**
 * Secrets on disk, through the running service: the data directory netroot creates is 0750, the
 * database and its -wal/-shm are 0600, netroot's SSH private key 0600 in a 0700 directory; the
 * first admin token is written to a 0600 file and appears nowhere in the process output (which
 * systemd keeps in the journal); modes left looser by an older netroot are narrowed at start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';

let tmp: string;
const mode = (p: string) => statSync(p).mode & 0o7777;
const octal = (m: number) => `0${m.toString(8)}`;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'nr-secrets-'));
});
after(() => removeDir(tmp));

/** netroot on a data dir it has to create itself (the config lives elsewhere). */
async function fresh(name: string): Promise<{ nr: Netroot; data: string }> {
  const data = join(tmp, name, 'var', 'netroot');
  const nr = await startNetroot({ dataDir: join(tmp, `${name}-config`), config: { dataDir: data } });
  return { nr, data };
}

test('the data dir netroot creates is 0750; database, -wal, -shm and SSH key are 0600', async () => {
  const { nr, data } = await fresh('modes');
  try {
    assert.equal(octal(mode(data)), '0750');
    // A write, so the -wal holds something; -shm exists while the database is open in WAL mode.
    assert.equal((await nr.api('POST', '/tokens', { name: 'ops', role: 'readonly' })).status, 201);
    for (const f of ['netroot.db', 'netroot.db-wal', 'netroot.db-shm']) assert.equal(octal(mode(join(data, f))), '0600', f);
    assert.equal((await nr.api('GET', '/ssh/key')).status, 200);
    assert.equal(octal(mode(join(data, 'ssh'))), '0700');
    assert.equal(octal(mode(join(data, 'ssh', 'id_ed25519'))), '0600');
  } finally {
    await nr.stop();
  }
});

test('the first admin token is in a 0600 file, never in the process output, and it works', async () => {
  const { nr, data } = await fresh('token');
  try {
    const file = join(data, 'initial-admin-token');
    assert.match(nr.token, /^nrt_/);
    assert.equal(readFileSync(file, 'utf8'), `${nr.token}\n`);
    assert.equal(octal(mode(file)), '0600');
    const out = nr.proc.output();
    assert.ok(!out.includes(nr.token), 'the secret is not on stdout/stderr (the journal)');
    assert.doesNotMatch(out, /nrt_[A-Za-z0-9_-]{8}/);
    assert.ok(out.includes(`written to ${file} (mode 0600`), 'only where it is');
    assert.deepEqual((await nr.api('GET', '/whoami')).body, { name: 'admin', role: 'admin' });
    // The CLI's answer to a missing token says where the first one is.
    const none = await nr.cli(['node', 'list'], { token: '' });
    assert.equal(none.code, 3);
    assert.match(none.stderr, /initial-admin-token in netroot's data directory/);
  } finally {
    await nr.stop();
  }
  // A restart makes no new token and prints none.
  const again = await startNetroot({ dataDir: join(tmp, 'token-config'), config: { dataDir: data } });
  try {
    assert.equal(again.token, '');
    assert.doesNotMatch(again.proc.output(), /nrt_|initial admin API token written/);
    assert.equal((await again.api('GET', '/whoami', undefined, nr.token)).status, 200, 'the first token still works');
  } finally {
    await again.stop();
  }
});

test('a data dir and database files an older netroot left open (0755, 0644) are narrowed at start', async () => {
  const { nr, data } = await fresh('older');
  await nr.stop();
  chmodSync(data, 0o755);
  chmodSync(join(data, 'netroot.db'), 0o644);
  writeFileSync(join(data, 'netroot.db.pre-restore-20250101T000000Z'), 'old copy', { mode: 0o644 });
  chmodSync(join(data, 'netroot.db.pre-restore-20250101T000000Z'), 0o644);
  const again = await startNetroot({ dataDir: join(tmp, 'older-config'), config: { dataDir: data } });
  try {
    assert.equal(octal(mode(data)), '0750');
    assert.equal(octal(mode(join(data, 'netroot.db'))), '0600');
    assert.equal(octal(mode(join(data, 'netroot.db.pre-restore-20250101T000000Z'))), '0600');
    const out = again.proc.output();
    assert.match(out, /"level":"warn"[^\n]*narrowed [^\n]*\/older\/var\/netroot from mode 0755 to 0750/);
    assert.match(out, /"level":"warn"[^\n]*narrowed [^\n]*netroot\.db from mode 0644 to 0600/);
    // Written with the narrowed mode from now on.
    assert.equal((await again.api('POST', '/tokens', { name: 'later', role: 'readonly' }, nr.token)).status, 201);
    assert.equal(octal(mode(join(data, 'netroot.db-wal'))), '0600');
  } finally {
    await again.stop();
  }
});
