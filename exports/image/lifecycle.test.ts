import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRetention, MemoryImageState, publishVersion, rollbackVersion } from './lifecycle.js';
import { MemoryVersionStore } from './store.js';
import { versionPaths } from './names.js';

test('publish, rollback and retention through the store interfaces, removing trees', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-life-'));
  try {
    const versions = new MemoryVersionStore();
    const state = new MemoryImageState();
    for (const [i, s] of [['1', 'ready'], ['2', 'failed'], ['3', 'ready'], ['4', 'ready']] as const) {
      await versions.create({ image: 'img', version: `v${i}`, state: s, createdAt: `2026-01-0${i}` });
      await mkdir(versionPaths(dir, 'img', `v${i}`).root, { recursive: true });
    }
    assert.deepEqual(await publishVersion(versions, state, 'img', 'v4'), { previous: null, active: 'v4' });
    await assert.rejects(publishVersion(versions, state, 'img', 'v2'), /failed, not ready/);
    assert.deepEqual(await rollbackVersion(versions, state, 'img'), { previous: 'v4', active: 'v3' });
    state.booted.set('img', ['v1']);
    const dry = await applyRetention(versions, state, dir, 'img', 1, true);
    assert.deepEqual([dry.remove, dry.removed], [['v2'], []]);
    state.booted.set('img', []);
    const r = await applyRetention(versions, state, dir, 'img', 1);
    assert.deepEqual(r.removed, ['v1', 'v2']);
    assert.deepEqual((await versions.list('img')).map((v) => v.version), ['v3', 'v4']);
    assert.equal(await stat(versionPaths(dir, 'img', 'v1').dir).catch(() => null), null);
    assert.ok(await stat(versionPaths(dir, 'img', 'v3').root));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
