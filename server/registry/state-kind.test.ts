import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageStateKind, stateMismatch, stateModeFor } from './state-kind.js';

test('diskless images go with stateMode nfs, local images with local; the default kind is diskless', () => {
  assert.equal(imageStateKind({}), 'diskless');
  assert.equal(imageStateKind(null), 'diskless');
  assert.equal(imageStateKind({ state: { kind: 'local', rwLabel: 'a', stateLabel: 'b' } }), 'local');
  assert.equal(stateModeFor('diskless'), 'nfs');
  assert.equal(stateMismatch('el9', 'diskless', 'nfs'), null);
  assert.equal(stateMismatch('el9', 'local', 'local'), null);
  assert.match(stateMismatch('el9', 'diskless', 'local')!, /use stateMode "nfs"/);
  assert.match(stateMismatch('el9', 'local', 'nfs')!, /use stateMode "local"/);
});
