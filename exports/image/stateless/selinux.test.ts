import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySelinux, selinuxMode, setSelinuxMode } from './selinux.js';

// /etc/selinux/config as RHEL installs it (comments abridged).
const EL = '# This file controls the state of SELinux on the system.\nSELINUX=enforcing\n# SELINUXTYPE= targeted or mls\nSELINUXTYPE=targeted\n';

test('selinuxMode / setSelinuxMode: the SELINUX= line only, every other line kept', () => {
  assert.equal(selinuxMode(EL), 'enforcing');
  assert.equal(selinuxMode('SELINUX="Permissive" # x\n'), 'permissive');
  assert.equal(selinuxMode('# SELINUX=enforcing\n'), null);
  assert.equal(setSelinuxMode(EL, 'permissive'), EL.replace('SELINUX=enforcing', 'SELINUX=permissive'));
  assert.equal(setSelinuxMode('SELINUX=enforcing\nSELINUX=disabled\nX=1\n', 'permissive'), 'SELINUX=permissive\nX=1\n');
  assert.equal(setSelinuxMode('SELINUXTYPE=targeted\n', 'disabled'), 'SELINUXTYPE=targeted\nSELINUX=disabled\n');
});

test('applySelinux: an enforcing golden host gives a permissive image with the reason; no config, no change', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-selinux-'));
  try {
    await mkdir(join(dir, 'etc/selinux'), { recursive: true });
    await writeFile(join(dir, 'etc/selinux/config'), EL);
    const r = await applySelinux(dir, 'permissive');
    assert.deepEqual(r.changed, ['/etc/selinux/config']);
    assert.equal(r.golden, 'enforcing');
    assert.match(r.note!, /golden host is enforcing; the image boots permissive because .*nfs_t/);
    assert.equal(selinuxMode(await readFile(join(dir, 'etc/selinux/config'), 'utf8')), 'permissive');
    assert.match((await applySelinux(dir, 'enforcing')).note!, /labeled NFS/);
    assert.deepEqual(await applySelinux(join(dir, 'nothing'), 'disabled'), { changed: [], golden: null, note: null });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
