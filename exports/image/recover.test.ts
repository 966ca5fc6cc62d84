import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failInterruptedPulls, INTERRUPTED, processesIn } from './recover.js';
import { MemoryVersionStore } from './store.js';
import { versionPaths } from './names.js';

async function setup(dir: string) {
  const store = new MemoryVersionStore();
  for (const [image, version, state] of [['a', 'v1', 'ready'], ['a', 'v2', 'building'], ['a', 'v3', 'failed'], ['b', 'w1', 'building']] as const) {
    await store.create({ image, version, state, createdAt: `2026-01-01T00:00:0${version.slice(1)}Z` });
    const p = versionPaths(dir, image, version);
    await mkdir(join(p.root, 'etc'), { recursive: true });
    await writeFile(join(p.root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  }
  return store;
}
const exists = (p: string) => stat(p).then(() => true, () => false);

test('versions left building by a dead service become failed, their trees removed; other versions untouched', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-recover-'));
  try {
    const store = await setup(dir);
    const r = await failInterruptedPulls(store, ['a', 'b', 'nosuch'], { imagesDir: dir, keepFailed: false });
    assert.deepEqual(r.map((x) => [x.image, x.version, x.kept]), [['a', 'v2', false], ['b', 'w1', false]]);
    const v2 = (await store.get('a', 'v2'))!;
    assert.equal(v2.state, 'failed');
    assert.equal(v2.kept, false);
    assert.ok(v2.error!.startsWith(INTERRUPTED));
    assert.match(v2.error!, /service died during the pull/);
    assert.equal(await exists(versionPaths(dir, 'a', 'v2').dir), false);
    assert.equal(await exists(versionPaths(dir, 'b', 'w1').dir), false);
    assert.equal((await store.get('a', 'v1'))!.state, 'ready');
    assert.ok(await exists(versionPaths(dir, 'a', 'v1').root));
    assert.ok(await exists(versionPaths(dir, 'a', 'v3').root), 'an earlier failed version is left to retention');
    // Nothing building any more: a second start changes nothing.
    assert.deepEqual(await failInterruptedPulls(store, ['a', 'b'], { imagesDir: dir, keepFailed: false }), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('with keepFailed the partial tree stays, marked kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-recover-'));
  try {
    const store = await setup(dir);
    await failInterruptedPulls(store, ['a'], { imagesDir: dir, keepFailed: true });
    const v2 = (await store.get('a', 'v2'))!;
    assert.deepEqual([v2.state, v2.kept], ['failed', true]);
    assert.match(v2.error!, /partial tree kept \(images\.keepFailed\)/);
    assert.ok(await exists(join(versionPaths(dir, 'a', 'v2').root, 'etc/passwd')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process the dead service left writing into the tree is stopped before the tree goes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-recover-'));
  // Stands in for an orphaned rsync: its argv names the version's root, as rsync's destination does.
  const root = versionPaths(dir, 'a', 'v2').root;
  const child = spawn('sh', ['-c', 'trap "" TERM; while :; do sleep 0.1; done', 'rsync-stand-in', `${root}/`], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const store = await setup(dir);
    assert.deepEqual(await processesIn(versionPaths(dir, 'a', 'v2').dir), [child.pid]);
    assert.deepEqual(await processesIn(versionPaths(dir, 'a', 'v1').dir), []);
    const r = await failInterruptedPulls(store, ['a'], { imagesDir: dir, keepFailed: false, graceMs: 300 });
    assert.deepEqual(r[0]!.stopped, [child.pid]);
    await exited; // it ignored SIGTERM: SIGKILL after the grace time
    assert.equal(child.signalCode, 'SIGKILL');
    assert.equal(await exists(versionPaths(dir, 'a', 'v2').dir), false);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
