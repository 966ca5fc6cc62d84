import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IndexedHeap } from './heap.js';

test('IndexedHeap pops by priority, then key, whatever the sets, moves and deletes before', () => {
  const op = fc.record({ kind: fc.constantFrom('set', 'set', 'delete', 'pop'), key: fc.integer({ min: 0, max: 30 }), prio: fc.integer({ min: 0, max: 10 }) });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const h = new IndexedHeap();
      const ref = new Map<number, number>();
      const first = () => [...ref].sort((a, b) => a[1] - b[1] || a[0] - b[0])[0]?.[0];
      for (const o of ops) {
        if (o.kind === 'set') {
          h.set(o.key, o.prio);
          ref.set(o.key, o.prio);
        } else if (o.kind === 'delete') assert.equal(h.delete(o.key), ref.delete(o.key));
        else {
          const want = first();
          assert.equal(h.pop(), want);
          if (want !== undefined) ref.delete(want);
        }
        assert.equal(h.size, ref.size);
        assert.equal(h.peek(), first());
        assert.equal(h.has(o.key), ref.has(o.key));
      }
    }),
    { numRuns: 500 },
  );
});
