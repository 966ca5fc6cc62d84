import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileOrNull, removeStaleTemps, restoreFile, writeFileAtomic } from './atomic.js';

test('writeFileAtomic replaces the whole file, with the mode asked, leaving no temp behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nr-atomic-'));
  try {
    const f = join(dir, 'x.exports');
    await writeFileAtomic(f, 'one\n', 0o600);
    await writeFileAtomic(f, 'two\n', 0o644);
    assert.equal(await readFile(f, 'utf8'), 'two\n');
    assert.equal((await stat(f)).mode & 0o777, 0o644);
    assert.deepEqual(await readdir(dir), ['x.exports']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('restoreFile: content back, or the file removed when there was none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nr-atomic-'));
  try {
    const f = join(dir, 'x.exports');
    await writeFileAtomic(f, 'new\n');
    await restoreFile(f, 'old\n');
    assert.equal(await readFile(f, 'utf8'), 'old\n');
    await restoreFile(f, null);
    assert.equal(await readFileOrNull(f), null);
    await restoreFile(f, null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('removeStaleTemps removes temps of dead writers only, never the file or a live writer\'s temp', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nr-atomic-'));
  try {
    const f = join(dir, 'x.exports');
    await writeFile(f, 'keep');
    await writeFile(join(dir, '.x.exports.999999999.aa.tmp'), 'dead');
    await writeFile(join(dir, `.x.exports.${process.pid}.bb.tmp`), 'live');
    await writeFile(join(dir, '.other.exports.999999999.cc.tmp'), 'not ours');
    assert.deepEqual(await removeStaleTemps(f), ['.x.exports.999999999.aa.tmp']);
    assert.deepEqual((await readdir(dir)).sort(), ['.other.exports.999999999.cc.tmp', `.x.exports.${process.pid}.bb.tmp`, 'x.exports']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
