import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newVersionName, validateImageName, versionPaths } from './names.js';

test('names that would escape the images tree are refused, naming the field', () => {
  for (const bad of ['..', '.', '../x', 'a/b', '', '-rf', '.hidden', 'a..b', 'x'.repeat(64), 'a b', 'a\nb']) {
    assert.throws(() => validateImageName(bad), /^Error: image:/, bad);
    assert.throws(() => versionPaths('/var/lib/netroot/images', 'ok', bad), /version:/, bad);
  }
  assert.equal(versionPaths('/data/images/', 'centos7', '20260101-000000').root, '/data/images/centos7/20260101-000000/root');
});

test('newVersionName is a sortable UTC stamp, suffixed when taken', () => {
  const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(newVersionName([], d), '20260102-030405');
  assert.equal(newVersionName(['20260102-030405', '20260102-030405-2'], d), '20260102-030405-3');
});
