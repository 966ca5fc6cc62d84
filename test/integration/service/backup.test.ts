/** Backup while the API is writing, refused restore while running, restore on a stopped service, compare. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startNetroot } from '../../helpers/service.js';

test('backup during writes is consistent; restore brings exactly that state back', async () => {
  const a = await startNetroot();
  const file = join(a.dataDir, '..', `netroot-backup-${process.pid}.tar.gz`);
  try {
    let stop = false;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; !stop && i < 2000; i++) {
        const r = await a.api('POST', '/nodes', { mac: `02:42:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, fqdn: `w${i}.lab.example`, ipv4: `10.42.${i >> 8}.${(i & 255) + 1 > 254 ? 254 : (i & 255) + 1}` });
        if (r.status === 201) written++;
      }
    })();
    while (written < 50) await new Promise((r) => setTimeout(r, 20));
    const before = written;
    const b = await a.cli(['backup', file, '--config', a.configPath, '--json']);
    assert.equal(b.code, 0, b.stderr);
    const after = written;
    stop = true;
    await writer;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const manifest = JSON.parse(b.stdout);
    assert.deepEqual(manifest.files.slice(0, 2), ['netroot.db', 'netroot.json']);
    const all = (await a.api('GET', '/nodes?limit=10000&sort=createdAt')).body.items as Record<string, unknown>[];

    const refused = await a.cli(['restore', file, '--config', a.configPath]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is running .*stop it/);

    await a.stop();
    // A DHCP lease journal segment of the replaced database is kept aside, not replayed over the restored one.
    writeFileSync(join(a.dataDir, 'netroot.db-leases.3'), '+ 10.42.9.9 02:42:00:00:09:09 bound 9999999999999\n', { mode: 0o600 });
    const r = await a.cli(['restore', file, '--config', a.configPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /replaced files kept as .*netroot\.db\.pre-restore-/);
    assert.match(r.stdout, /netroot\.db-leases\.3\.pre-restore-/);
    assert.ok(!existsSync(join(a.dataDir, 'netroot.db-leases.3')));
    const c = await startNetroot({ dataDir: a.dataDir });
    try {
      const restored = (await c.api('GET', '/nodes?limit=10000&sort=createdAt', undefined, a.token)).body.items as Record<string, unknown>[];
      assert.ok(restored.length >= before && restored.length <= after + 1, `${before} <= ${restored.length} <= ${after + 1}`);
      assert.deepEqual(restored, all.slice(0, restored.length), 'the restored registry is exactly a prefix of what was written');
    } finally {
      await c.stop();
    }
    assert.ok(!existsSync(join(a.dataDir, 'netroot.pid')), 'the pid file goes with the service');
  } finally {
    await a.stop();
    removeDir(a.dataDir);
    removeDir(file);
  }
});
