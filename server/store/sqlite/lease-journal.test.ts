import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseJournal, changeLine, parseLine } from './lease-journal.js';

test('journal lines: every kind of change comes back as it was; anything else is not a line', () => {
  for (const c of [
    { ip: '10.0.0.5', lease: { ip: '10.0.0.5', mac: '02:00:00:00:00:01', state: 'offered' as const, expiresAt: 1_700_000_000_123 } },
    { ip: '10.0.0.6', lease: { ip: '10.0.0.6', mac: '02:00:00:00:00:02', state: 'bound' as const, expiresAt: 5 } },
    { ip: '10.0.0.7', lease: { ip: '10.0.0.7', mac: '', state: 'declined' as const, expiresAt: 9 } },
    { ip: '10.0.0.8', lease: null },
  ]) assert.deepEqual(parseLine(changeLine(c).slice(0, -1)), c);
  for (const bad of ['', '+', '- 10.0.0.1 x', '+ 10.0.0.1 02:00:00:00:00:01 bound', '+ 10.0.0.1 02:00:00:00:00:01 bound 1x', '+ 10.0.0.256 02:00:00:00:00:01 bound 1',
    '+ 10.0.0.1 02:00:00:00:00:0 bound 1', '+ 10.0.0.1 02:00:00:00:00:01 free 1', '+ 10.0.0.1 - bound 1', '+ 10.0.0.1 02:00:00:00:00:01 declined 1', '+ 10.0.0.1 02:00:00:00:00:01 bound 1 ']) {
    assert.equal(parseLine(bad), null, JSON.stringify(bad));
  }
});

test('segments: written in order, a torn tail is left out, a full one is closed and retired on demand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netroot-journal-'));
  try {
    const base = join(dir, 'n.db-leases');
    const j = new LeaseJournal(base, 80);
    assert.deepEqual(j.open(), []);
    const change = (i: number) => ({ ip: `10.0.0.${i}`, lease: { ip: `10.0.0.${i}`, mac: '02:00:00:00:00:01', state: 'bound' as const, expiresAt: i } });
    j.add(change(1));
    j.add({ ip: '10.0.0.1', lease: null });
    assert.equal(j.buffered, true);
    j.write();
    assert.equal(j.buffered, false);
    assert.equal(j.rotateIfFull(), null, 'under the size');
    j.add(change(2));
    j.write();
    assert.equal(j.rotateIfFull(), 1, 'past 80 bytes: the next segment begins');
    j.add(change(3));
    j.write();
    assert.deepEqual(j.segments(), [1, 2]);
    // A power loss can cut the last line short: that line and whatever follows it in its segment are not used.
    appendFileSync(`${base}.2`, '+ 10.0.0.4 02:00:00:00:00');
    assert.deepEqual(new LeaseJournal(base).read(), [change(1), { ip: '10.0.0.1', lease: null }, change(2), change(3)]);
    j.retire(1);
    assert.deepEqual(j.segments(), [2]);
    j.retire(2);
    assert.deepEqual(j.segments(), [2], 'the segment being written is never retired');
    j.close();
    // A later start writes after every segment it found.
    const k = new LeaseJournal(base);
    assert.deepEqual(k.open(), [2]);
    assert.deepEqual(k.segments(), [2, 3]);
    k.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
