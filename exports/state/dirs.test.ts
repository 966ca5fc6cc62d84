import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDirectories } from './dirs.js';
import { StateDirError, type StateErrorCode } from './errors.js';

async function withDirs(fn: (s: StateDirectories, dir: string, tick: () => void) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'nr-state-'));
  let t = Date.parse('2026-11-26T15:33:00Z');
  try {
    const s = new StateDirectories({ stateDir: join(dir, 'state'), now: () => new Date(t) });
    await fn(s, dir, () => (t += 1000));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rejectsCode = (p: Promise<unknown>, code: StateErrorCode, field?: string) =>
  assert.rejects(p, (e: unknown) => e instanceof StateDirError && e.code === code && (field === undefined || e.field === field));

test('create makes state/<fqdn> with the mode asked and pre-creates statetab paths; idempotent', async () => {
  await withDirs(async (s, dir) => {
    const r = await s.create('a.lab', { mode: 0o750, statetabPaths: ['/var/log', '/var/lib/dhclient'] });
    assert.equal(r.created, true);
    assert.equal(r.path, join(dir, 'state/a.lab'));
    assert.equal((await stat(r.path)).mode & 0o777, 0o750);
    assert.deepEqual(r.precreated, ['/var/log', '/var/lib/dhclient']);
    assert.ok((await stat(join(r.path, 'var/lib/dhclient'))).isDirectory());
    const again = await s.create('a.lab', { statetabPaths: ['/var/log', '/etc/ssh'] });
    assert.equal(again.created, false);
    assert.deepEqual(again.precreated, ['/etc/ssh']);
  });
});

test('with the image root, statetab entries mirror it: dirs keep their mode, files are copied, symlinks skipped', async () => {
  await withDirs(async (s, dir) => {
    const img = join(dir, 'root');
    await mkdir(join(img, 'var/spool/cron'), { recursive: true, mode: 0o700 });
    await mkdir(join(img, 'etc'), { recursive: true });
    await writeFile(join(img, 'etc/adjtime'), '0.0 0 0.0\n', { mode: 0o640 });
    await symlink('/run', join(img, 'etc/runlink'));
    const r = await s.create('a.lab', { imageRoot: img, statetabPaths: ['/var/spool/cron', '/etc/adjtime', '/etc/runlink', '/var/log'] });
    assert.deepEqual(r.precreated, ['/var/spool/cron', '/var/log']);
    assert.deepEqual(r.copied, ['/etc/adjtime']);
    assert.deepEqual(r.skipped, ['/etc/runlink']);
    assert.equal((await stat(join(r.path, 'var/spool/cron'))).mode & 0o777, 0o700);
    assert.equal(await readFile(join(r.path, 'etc/adjtime'), 'utf8'), '0.0 0 0.0\n');
    assert.equal((await stat(join(r.path, 'etc/adjtime'))).mode & 0o777, 0o640);
  });
});

test('a symlink planted by a node inside its state dir is never followed', async () => {
  await withDirs(async (s, dir) => {
    const r = await s.create('a.lab');
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await symlink(outside, join(r.path, 'var'));
    await rejectsCode(s.create('a.lab', { statetabPaths: ['/var/log'] }), 'STATE_UNSAFE', 'statetabPaths');
    assert.deepEqual(await readdir(outside), []);
  });
});

test('FQDNs and statetab paths that would escape are refused, naming the field', async () => {
  await withDirs(async (s) => {
    for (const bad of ['..', '../x', 'a/b', '.archive', 'a b', '']) await rejectsCode(s.create(bad), 'STATE_INPUT', 'fqdn');
    await rejectsCode(s.create('a.lab', { statetabPaths: ['/var/../../etc'] }), 'STATE_INPUT', 'statetabPaths[0]');
    await rejectsCode(s.create('a.lab', { statetabPaths: ['var/log'] }), 'STATE_INPUT', 'statetabPaths[0]');
    assert.equal(await s.exists('a.lab'), false, 'a refused create leaves nothing behind');
    await s.create('a.lab');
    await rejectsCode(s.rename('a.lab', '../b'), 'STATE_INPUT', 'newFqdn');
    await rejectsCode(s.restore('../../etc-20261126T153300Z'), 'STATE_INPUT', 'archiveName');
  });
});

test('rename follows an FQDN change and never overwrites', async () => {
  await withDirs(async (s, dir) => {
    await s.create('a.lab');
    await writeFile(join(dir, 'state/a.lab/keep'), 'x');
    await s.create('c.lab');
    await rejectsCode(s.rename('a.lab', 'c.lab'), 'STATE_EXISTS', 'newFqdn');
    await rejectsCode(s.rename('zz.lab', 'y.lab'), 'STATE_NOT_FOUND', 'oldFqdn');
    const r = await s.rename('a.lab', 'b.lab');
    assert.equal(r.to, join(dir, 'state/b.lab'));
    assert.equal(await readFile(join(dir, 'state/b.lab/keep'), 'utf8'), 'x');
    assert.equal(await s.exists('a.lab'), false);
  });
});

test('archive moves to .archive/<fqdn>-<timestamp>, twice in a second gets a suffix; restore brings it back', async () => {
  await withDirs(async (s, dir) => {
    await s.create('a.lab');
    await writeFile(join(dir, 'state/a.lab/log'), 'one');
    const a1 = await s.archive('a.lab');
    assert.equal(a1.name, 'a.lab-20261126T153300Z');
    assert.equal(a1.archivedAt, '2026-11-26T15:33:00Z');
    assert.equal(await s.exists('a.lab'), false);
    await s.create('a.lab');
    const a2 = await s.archive('a.lab');
    assert.equal(a2.name, 'a.lab-20261126T153300Z-2');
    assert.deepEqual((await s.listArchived()).map((a) => [a.name, a.fqdn]), [['a.lab-20261126T153300Z', 'a.lab'], ['a.lab-20261126T153300Z-2', 'a.lab']]);
    assert.equal(((await lstat(join(dir, 'state/.archive'))).mode & 0o777), 0o700);
    const r = await s.restore(a1.name);
    assert.equal(r.fqdn, 'a.lab');
    assert.equal(await readFile(join(dir, 'state/a.lab/log'), 'utf8'), 'one');
    await rejectsCode(s.restore(a2.name), 'STATE_EXISTS', 'fqdn');
    const r2 = await s.restore(a2.name, 'a2.lab');
    assert.equal(r2.path, join(dir, 'state/a2.lab'));
    await rejectsCode(s.restore(a1.name), 'STATE_NOT_FOUND', 'archiveName');
    assert.deepEqual(await s.listArchived(), []);
  });
});

test('usage counts bytes below the state dir, hard links once, symlinks not followed', async () => {
  await withDirs(async (s, dir) => {
    const r = await s.create('a.lab', { statetabPaths: ['/var/log'] });
    await writeFile(join(r.path, 'var/log/messages'), Buffer.alloc(10_000, 1));
    await writeFile(join(dir, 'big-outside'), Buffer.alloc(1_000_000, 1));
    await symlink(join(dir, 'big-outside'), join(r.path, 'link'));
    const u = await s.usage('a.lab');
    assert.ok(u.bytes >= 10_000 && u.bytes < 100_000, String(u.bytes));
    assert.equal(u.files, 5); // a.lab, var, log, messages, link
    assert.ok(u.allocatedBytes >= 10_000);
    await rejectsCode(s.usage('none.lab'), 'STATE_NOT_FOUND', 'fqdn');
  });
});

test('list: one entry per name below the state dir, symlinks and files as "other", .archive left out', async () => {
  await withDirs(async (s, dir) => {
    await s.create('a.lab', { statetabPaths: ['/var/log'] });
    await s.create('b.lab');
    await s.archive('b.lab');
    await symlink(join(dir, 'state/a.lab'), join(dir, 'state/l.lab'));
    await writeFile(join(dir, 'state/f.lab'), 'x');
    assert.deepEqual([...(await s.list())].sort(), [['a.lab', 'dir'], ['f.lab', 'other'], ['l.lab', 'other']]);
  });
});

test('rename with replaceEmpty: an empty skeleton at the new name gives way, a target with data never does', async () => {
  await withDirs(async (s, dir) => {
    await s.create('a.lab');
    await writeFile(join(dir, 'state/a.lab/keep'), 'x');
    await s.create('b.lab', { statetabPaths: ['/var/log', '/var/lib/x'] });
    await rejectsCode(s.rename('a.lab', 'b.lab'), 'STATE_EXISTS', 'newFqdn');
    const r = await s.rename('a.lab', 'b.lab', { replaceEmpty: true });
    assert.equal(r.replaced, true);
    assert.equal(await readFile(join(dir, 'state/b.lab/keep'), 'utf8'), 'x');
    assert.equal(await s.exists('a.lab'), false);
    // b.lab now holds a file: moving c.lab onto it is refused and nothing is removed.
    await s.create('c.lab');
    await rejectsCode(s.rename('c.lab', 'b.lab', { replaceEmpty: true }), 'STATE_EXISTS', 'newFqdn');
    assert.equal(await readFile(join(dir, 'state/b.lab/keep'), 'utf8'), 'x');
    // A symlink inside the target is data too (and is never followed).
    await s.create('d.lab');
    await symlink('/etc', join(dir, 'state/d.lab/link'));
    await rejectsCode(s.rename('c.lab', 'd.lab', { replaceEmpty: true }), 'STATE_EXISTS', 'newFqdn');
    assert.ok((await lstat(join(dir, 'state/d.lab/link'))).isSymbolicLink());
  });
});

test('a new directory appears complete or not at all: built under a temp name; dead writers\' temps are removed', async () => {
  await withDirs(async (s, dir) => {
    await s.create('a.lab', { statetabPaths: ['/var/log'] });
    assert.deepEqual(await readdir(join(dir, 'state')), ['a.lab']);
    // What a kill -9 between mkdir and rename leaves: a temp of a process that is gone.
    await mkdir(join(dir, 'state/.new.b.lab.999999999.0badf00d/var'), { recursive: true });
    await mkdir(join(dir, `state/.new.c.lab.${process.pid}.0badf00d`));
    assert.deepEqual([...(await s.list()).keys()], ['a.lab']);
    assert.deepEqual(await s.removeStaleTemps(), ['.new.b.lab.999999999.0badf00d']);
    assert.deepEqual((await readdir(join(dir, 'state'))).sort(), [`.new.c.lab.${process.pid}.0badf00d`, 'a.lab']);
  });
});
