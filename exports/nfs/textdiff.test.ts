import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readGolden } from './golden.js';
import { renderKernelExports } from './kernel-format.js';
import { SAMPLE_INPUT } from './sample.js';
import { buildExportTable } from './table.js';
import { diffText } from './textdiff.js';

/** Applies a diff's -/+ lines back onto the old text (checks the diff is complete and ordered). */
function patch(oldText: string, diff: string): string {
  const a = oldText === '' ? [] : oldText.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let i = 0;
  for (const l of diff.split('\n').filter(Boolean)) {
    const h = /^@@ -(\d+) \+\d+ @@$/.exec(l);
    if (h) {
      while (i < Number(h[1]) - 1) out.push(a[i++]!);
    } else if (l.startsWith('-')) {
      assert.equal(a[i], l.slice(1));
      i++;
    } else out.push(l.slice(1));
  }
  while (i < a.length) out.push(a[i++]!);
  return out.length ? `${out.join('\n')}\n` : '';
}

test('same text: empty diff', () => {
  assert.deepEqual(diffText('a\nb\n', 'a\nb\n'), { text: '', added: 0, removed: 0 });
});

test('dry-run diff of a registry change matches the golden file', () => {
  const before = renderKernelExports(buildExportTable(SAMPLE_INPUT));
  const nodes = SAMPLE_INPUT.nodes.map((n) => (n.fqdn === 'node02.lab.example' ? { ...n, enabled: false } : n.fqdn === 'node03.lab.example' ? { ...n, enabled: true } : n));
  const after = renderKernelExports(buildExportTable({ ...SAMPLE_INPUT, nodes }));
  const d = diffText(before, after);
  assert.equal(d.text, readGolden('sample.dryrun.diff'));
  assert.equal(d.added, 2);
  assert.equal(d.removed, 2);
});

test('from nothing: every line added', () => {
  const d = diffText('', 'x\ny\n');
  assert.equal(d.text, '@@ -1 +1 @@\n+x\n+y\n');
});

test('property: patching the old text with the diff gives the new text', () => {
  const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 }).map((l) => (l.length ? `${l.join('\n')}\n` : ''));
  fc.assert(fc.property(lines, lines, (x, y) => assert.equal(patch(x, diffText(x, y).text), y)), { numRuns: 500 });
});
