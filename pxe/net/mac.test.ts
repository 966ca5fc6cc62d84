import { test } from 'node:test';
import assert from 'node:assert/strict';
import { macFromBytes, macToBytes, normalizeMac, pxelinuxName } from './mac.js';

test('normalizeMac accepts colon, dash, dotted and bare forms', () => {
  for (const s of ['52:54:00:AB:cd:01', '52-54-00-ab-CD-01', '525400abcd01', '5254.00ab.cd01', ' 52:54:00:ab:cd:01 ']) {
    assert.equal(normalizeMac(s), '52:54:00:ab:cd:01', s);
  }
});

test('normalizeMac rejects what is not a MAC', () => {
  for (const s of ['', '52:54:00:ab:cd', '52:54:00:ab:cd:01:02', 'zz:54:00:ab:cd:01', '52:54:00-ab:cd:0', '52:54:00:ab:cd:011']) {
    assert.equal(normalizeMac(s), null, s);
  }
});

test('bytes round trip and pxelinux name', () => {
  const b = macToBytes('52:54:00:ab:cd:01');
  assert.equal(macFromBytes(b), '52:54:00:ab:cd:01');
  assert.equal(pxelinuxName('52:54:00:ab:cd:01'), '01-52-54-00-ab-cd-01');
});
