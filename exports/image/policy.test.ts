import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pinTarget, publishTarget, retentionPlan, rollbackTarget } from './policy.js';
import type { VersionRecord, VersionState } from './types.js';

const v = (version: string, state: VersionState = 'ready'): VersionRecord => ({ image: 'img', version, state, createdAt: `2026-01-0${version}T00:00:00Z` });
const list = [v('1'), v('2'), v('3', 'failed'), v('4'), v('5'), v('6', 'building')];

test('publish and pin accept only ready versions, naming the field', () => {
  assert.equal(publishTarget(list, '4'), '4');
  assert.throws(() => publishTarget(list, '3'), /version: version 3 is failed/);
  assert.throws(() => publishTarget(list, '9'), /does not exist/);
  assert.throws(() => pinTarget(list, '6'), /pin: version 6 is building/);
});

test('rollback goes to the newest older ready version, skipping failed ones', () => {
  assert.equal(rollbackTarget(list, '4'), '2');
  assert.equal(rollbackTarget(list, '5'), '4');
  assert.equal(rollbackTarget(list, '5', '1'), '1');
  assert.throws(() => rollbackTarget(list, '1'), /no ready version older/);
  assert.throws(() => rollbackTarget(list, '5', '5'), /already active/);
  assert.throws(() => rollbackTarget(list, null), /no active version/);
});

test('retentionPlan keeps newest N ready, active, pinned, last-booted and building', () => {
  assert.deepEqual(retentionPlan(list, '2', ['1'], [], 1), { keep: ['1', '2', '5', '6'], remove: ['3', '4'] });
  assert.deepEqual(retentionPlan(list, '5', [], ['4'], 0), { keep: ['4', '5', '6'], remove: ['1', '2', '3'] });
  assert.deepEqual(retentionPlan(list, null, [], [], 10), { keep: ['1', '2', '4', '5', '6'], remove: ['3'] });
});

test('retentionPlan never removes a protected version (property)', () => {
  const states: VersionState[] = ['ready', 'failed', 'building'];
  fc.assert(fc.property(
    fc.array(fc.constantFrom(...states), { maxLength: 12 }),
    fc.nat(12), fc.nat(12), fc.array(fc.nat(12)), fc.array(fc.nat(12)),
    (st, keep, active, pins, booted) => {
      const vs = st.map((s, i) => ({ image: 'i', version: `v${i}`, state: s, createdAt: String(1000 + i) }));
      const name = (n: number) => `v${n}`;
      const plan = retentionPlan(vs, active < vs.length ? name(active) : null, pins.map(name), booted.map(name), keep);
      const removed = new Set(plan.remove);
      if (active < vs.length && removed.has(name(active))) return false;
      if (pins.some((p) => removed.has(name(p))) || booted.some((b) => removed.has(name(b)))) return false;
      if (vs.some((x) => x.state === 'building' && removed.has(x.version))) return false;
      return plan.keep.length + plan.remove.length === vs.length;
    },
  ));
});
