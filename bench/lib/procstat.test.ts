import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStat, treeOf, usageOf } from './procstat.js';

// A real line (in.tftpd) with a command name holding a space and a ")" to show the name is skipped whole.
const line = (pid: number, ppid: number, ut: number, st: number, cut: number, cst: number, rss: number, comm = 'in.tftpd') =>
  `${pid} (${comm}) S ${ppid} 5982 19159 0 -1 4194560 120 0 0 0 ${ut} ${st} ${cut} ${cst} 20 0 1 0 5123 6283264 ${rss} 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n`;

test('parseStat reads pid, ppid, times and rss, whatever the command name holds', () => {
  assert.deepEqual(parseStat(line(7038, 6966, 12, 30, 1, 2, 345, 'a) b (c')), { pid: 7038, ppid: 6966, utime: 12, stime: 30, cutime: 1, cstime: 2, rss: 345 });
});

test('treeOf walks children and grandchildren, not siblings', () => {
  const all = [line(10, 1, 1, 1, 0, 0, 100), line(11, 10, 2, 2, 0, 0, 10), line(12, 11, 3, 3, 0, 0, 10), line(13, 1, 50, 50, 0, 0, 999)].map((l) => parseStat(l));
  assert.deepEqual(treeOf(10, all).map((p) => p.pid), [10, 11, 12]);
  assert.deepEqual(treeOf(99, all), []);
  const u = usageOf(treeOf(10, all));
  assert.equal(u.cpuSec, 0.12);
  assert.equal(u.rssBytes, 120 * 4096);
  assert.equal(u.rootRssBytes, 100 * 4096);
});
