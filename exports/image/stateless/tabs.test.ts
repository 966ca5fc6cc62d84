import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRwtab, mergeStatetab, parseRwtabEntry, renderReadonlyRoot, renderRwtab, SEED_RWTAB } from './tabs.js';

test('renderReadonlyRoot golden: diskless', () => {
  assert.equal(renderReadonlyRoot({ kind: 'diskless', server: 'netroot.lan', stateExport: '/srv/state' }), [
    '# Written by netroot: the node mounts its root read-only (seed "Setup as read-only").',
    'READONLY=yes', 'TEMPORARY_STATE=yes', 'RW_MOUNT=/var/lib/stateless/writable', '#RW_LABEL=stateless-rw', 'RW_OPTIONS=',
    '#STATE_LABEL=stateless-state', 'STATE_MOUNT=/var/lib/stateless/state', 'STATE_OPTIONS=', 'CLIENTSTATE=netroot.lan:/srv/state',
    'SLAVE_MOUNTS=yes', '',
  ].join('\n'));
});

test('rwtab: the image overrides a seed entry for the same path, order kept', () => {
  const m = mergeRwtab(SEED_RWTAB, [parseRwtabEntry('empty /var/lock'), parseRwtabEntry('/var/cache/foo')]);
  assert.equal(renderRwtab(m).split('\n').slice(1).join('|'),
    'files\t/etc/localtime|files\t/var/lib/postfix/master.lock|dirs\t/var/lib/gssproxy|empty\t/var/lock|dirs\t/var/cache/foo|');
});

test('rwtab/statetab entries that are not absolute clean paths are refused', () => {
  assert.throws(() => parseRwtabEntry('bogus /x'), /rwtab/);
  assert.throws(() => parseRwtabEntry('dirs /a/../b'), /rwtab/);
  assert.throws(() => mergeStatetab(['var/log']), /statetab/);
  assert.deepEqual(mergeStatetab(['/var/log'], ['/var/log', '/srv/x']), ['/var/log', '/srv/x']);
});
