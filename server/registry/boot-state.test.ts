import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootState } from './boot-state.js';
import type { BootStatus } from '../store/types.js';

const st = (o: Partial<BootStatus>): BootStatus => ({ mac: 'm', lastId: 1, lastKind: 'dhcp.ack', lastAt: 1000, startedAt: null, bootedAt: null, image: null, version: null, runningImage: null, runningVersion: null, ...o });

test('boot state from the timeline summary', () => {
  assert.equal(bootState(undefined, 5000, 600), 'never');
  assert.equal(bootState(st({ startedAt: 900, lastAt: 1000 }), 1200, 600), 'booting');
  assert.equal(bootState(st({ startedAt: 900, lastAt: 1000 }), 2000, 600), 'stuck');
  assert.equal(bootState(st({ startedAt: 900, bootedAt: 950, lastAt: 5000 }), 99999, 600), 'booted', 'DHCP renewals after booting do not change it');
  assert.equal(bootState(st({ startedAt: 9000, bootedAt: 950, lastAt: 9000 }), 9100, 600), 'booting', 'a new boot started after the last booted');
});
