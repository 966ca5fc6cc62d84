import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rto, giveUpMs } from './rto.js';

const bounds = { initialMs: 1000, minMs: 20, maxMs: 8000 };

test('before any sample the timeout is the initial one', () => {
  assert.equal(new Rto(bounds).ms, 1000);
  assert.equal(new Rto({ initialMs: 5, minMs: 20, maxMs: 8000 }).ms, 20, 'bounded below');
  assert.equal(new Rto({ initialMs: 9000, minMs: 20, maxMs: 8000 }).ms, 8000, 'bounded above');
});

test('first sample: SRTT = R, RTTVAR = R/2, RTO = 3R (RFC 6298 2.2)', () => {
  const r = new Rto(bounds);
  r.sample(100);
  assert.equal(r.ms, 300);
});

test('later samples smooth with 1/8 and 1/4 (RFC 6298 2.3)', () => {
  const r = new Rto(bounds);
  r.sample(100);
  r.sample(200);
  // RTTVAR = 0.75*50 + 0.25*100 = 62.5; SRTT = 0.875*100 + 0.125*200 = 112.5
  assert.equal(r.ms, 112.5 + 4 * 62.5);
});

test('a LAN round trip sits on the floor; a slow path raises the timeout', () => {
  const r = new Rto(bounds);
  for (let i = 0; i < 50; i++) r.sample(0.05);
  assert.equal(r.ms, 20);
  for (let i = 0; i < 50; i++) r.sample(3000);
  assert.ok(r.ms >= 3000 && r.ms <= 8000, String(r.ms));
});

test('backoff doubles up to the ceiling and a sample undoes it', () => {
  const r = new Rto(bounds);
  r.sample(1);
  assert.equal(r.ms, 20);
  r.backoff();
  assert.equal(r.ms, 40);
  for (let i = 0; i < 20; i++) r.backoff();
  assert.equal(r.ms, 8000);
  r.sample(1);
  assert.ok(r.ms < 8000);
});

test('give-up time is what the fixed schedule waits', () => {
  assert.equal(giveUpMs(1000, 8000, 5), 1000 + 2000 + 4000 + 8000 + 8000 + 8000);
  assert.equal(giveUpMs(200, 400, 2), 200 + 400 + 400);
  assert.equal(giveUpMs(500, 100, 1), 1000, 'a ceiling below the first timeout never shortens it');
});
