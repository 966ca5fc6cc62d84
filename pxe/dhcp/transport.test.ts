import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedInterfaceAddresses, interfaceAddresses } from './transport.js';

test('interface addresses are re-read at most every maxAge', () => {
  let t = 0;
  const get = cachedInterfaceAddresses(1000, () => t);
  const first = get('lo');
  assert.deepEqual(first, interfaceAddresses('lo'));
  t = 500;
  assert.equal(get('lo'), first, 'served from the cache');
  t = 1500;
  assert.notEqual(get('lo'), first, 're-read after maxAge');
});
