import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { link, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isWalDatabase, rpmdbToRollbackJournal } from './rpmdb.js';
import { readRpmdbRows, writeWalRpmdb as walDatabase } from '../../../test/fixtures/golden/el/rpmdb.js';

test('rpmdb.sqlite in WAL mode: switched to the rollback journal, every committed row kept, -wal and -shm gone', async () => {
  const root = await mkdtemp(join(tmpdir(), 'netroot-rpmdb-'));
  const prev = await mkdtemp(join(tmpdir(), 'netroot-rpmdb-prev-'));
  try {
    const dir = join(root, 'var/lib/rpm');
    await walDatabase(dir, 50);
    assert.ok((await stat(join(dir, 'rpmdb.sqlite-wal'))).size > 0, 'the fixture keeps rows in its WAL');
    assert.equal(await isWalDatabase(join(dir, 'rpmdb.sqlite')), true);
    // The previous version's file: the same inode, as rsync --link-dest leaves it.
    await link(join(dir, 'rpmdb.sqlite'), join(prev, 'rpmdb.sqlite'));
    const before = await readFile(join(prev, 'rpmdb.sqlite'));

    const changed = await rpmdbToRollbackJournal(root);
    assert.deepEqual(changed, ['/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/rpmdb.sqlite-wal', '/var/lib/rpm/rpmdb.sqlite-shm']);
    assert.deepEqual((await readdir(dir)).sort(), ['rpmdb.sqlite'], 'no -wal, -shm or temp file left');
    assert.equal(await isWalDatabase(join(dir, 'rpmdb.sqlite')), false);
    assert.deepEqual(await readFile(join(prev, 'rpmdb.sqlite')), before, 'the hard-linked previous version is untouched');

    // What a node does on its read-only root: a read-only open, no -shm, nothing written.
    assert.deepEqual(readRpmdbRows(join(dir, 'rpmdb.sqlite')), Array.from({ length: 50 }, (_, i) => `package-${i}`));
    const db = new Database(join(dir, 'rpmdb.sqlite'), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'delete');
    } finally {
      db.close();
    }
    assert.deepEqual((await readdir(dir)).sort(), ['rpmdb.sqlite']);

    assert.deepEqual(await rpmdbToRollbackJournal(root), [], 'a second run changes nothing');
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(prev, { recursive: true, force: true });
  }
});

test('rpmdb: Berkeley DB roots, a symlinked /var/lib/rpm and a non-SQLite file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'netroot-rpmdb-'));
  try {
    // EL7/EL8: no rpmdb.sqlite, nothing to do (the __db* files are another step's).
    await mkdir(join(root, 'var/lib/rpm'), { recursive: true });
    await writeFile(join(root, 'var/lib/rpm/Packages'), 'bdb');
    assert.deepEqual(await rpmdbToRollbackJournal(root), []);
    await rm(join(root, 'var/lib/rpm'), { recursive: true });

    // Fedora's layout: /var/lib/rpm -> ../../usr/lib/sysimage/rpm; converted once, not twice.
    await walDatabase(join(root, 'usr/lib/sysimage/rpm'), 3);
    await symlink('../../usr/lib/sysimage/rpm', join(root, 'var/lib/rpm'));
    assert.deepEqual(await rpmdbToRollbackJournal(root), [
      '/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/rpmdb.sqlite-wal', '/var/lib/rpm/rpmdb.sqlite-shm',
    ]);
    assert.equal(await isWalDatabase(join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite')), false);

    // Not a database: left alone (only its stale -shm goes).
    await rm(join(root, 'usr/lib/sysimage/rpm'), { recursive: true });
    await mkdir(join(root, 'usr/lib/sysimage/rpm'));
    await writeFile(join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite'), 'not sqlite\n');
    await writeFile(join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite-shm'), '');
    assert.deepEqual(await rpmdbToRollbackJournal(root), ['/var/lib/rpm/rpmdb.sqlite-shm']);
    assert.equal(await readFile(join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite'), 'utf8'), 'not sqlite\n');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('rpmdb: a damaged WAL database fails the step with its path, and leaves no temp file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'netroot-rpmdb-'));
  try {
    const dir = join(root, 'var/lib/rpm');
    await walDatabase(dir, 5);
    const p = join(dir, 'rpmdb.sqlite');
    const bytes = await readFile(p);
    bytes.fill(0xff, 100, Math.min(bytes.length, 4096)); // the first page's b-tree header and cells
    await writeFile(p, bytes);
    await rm(join(dir, 'rpmdb.sqlite-wal'));
    await assert.rejects(rpmdbToRollbackJournal(root), /rpm database .*rpmdb\.sqlite: cannot switch it to the rollback journal/);
    assert.deepEqual((await readdir(dir)).sort(), ['rpmdb.sqlite', 'rpmdb.sqlite-shm']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
