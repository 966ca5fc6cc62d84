import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newResult, renderMarkdown, summaryTable, type Sample } from './report.js';

const sample = (server: string, round: number, value: number, ok = 1): Sample => ({
  case: '60 MB', server, round, value, ok, total: 1, failures: ok ? [] : ['c0: sha256 differs'], cpuSec: 1, cpuPerUnit: 10, rssMaxMiB: 5, extra: { seconds: 60 / value },
});

test('the summary shows medians, every round, failures and netroot / reference', () => {
  const r = newResult('tftp', 'MiB/s', 'CPU s/GB');
  r.samples = [sample('netroot', 1, 40), sample('netroot', 2, 60), sample('netroot', 3, 50, 0), sample('hpa', 1, 100), sample('hpa', 2, 100), sample('hpa', 3, 100)];
  const t = summaryTable(r).split('\n');
  assert.match(t[2]!, /^\| 60 MB \| netroot \| 50.0 \| 40.0, 60.0, 50.0 \| 2 \/ 3 \*\*FAILURES\*\* \|/);
  assert.match(t[3]!, /\| hpa \| 100 \| .* \| 0.50x \|$/);
  // Nothing verified on either side: no ratio rather than NaN.
  r.samples = [sample('netroot', 1, 0, 0), sample('hpa', 1, 0, 0)];
  assert.match(summaryTable(r).split('\n')[3]!, /\| hpa \| 0.00 \| .* \|  \|$/);
});

test('a run that started at load 1.0 or above is marked as not quiet; later rounds are counted', () => {
  const r = newResult('tftp', 'MiB/s', 'CPU s/GB');
  r.samples = [sample('netroot', 1, 40)];
  r.rounds = [{ case: '60 MB', round: 1, order: ['netroot'], loadStart: [1.2, 1, 1], loadEnd: [0.5, 1, 1] }];
  assert.match(renderMarkdown(r), /not a quiet machine/);
  r.rounds[0]!.loadStart = [0.4, 1, 1];
  assert.match(renderMarkdown(r), /a quiet machine, and every round started below 1.0/);
  r.rounds.push({ case: '60 MB', round: 2, order: ['netroot'], loadStart: [3, 1, 1], loadEnd: [2, 1, 1] });
  assert.match(renderMarkdown(r), /1 later round\(s\) started at 1.0 or above/);
});
