#!/usr/bin/env node
// Runs compiled tests with Node's own test runner.
//   node scripts/run-tests.js unit         -> dist/{server,pxe,exports}/**/*.test.js
//   node scripts/run-tests.js integration  -> dist/test/integration/**/*.test.js
//   node scripts/run-tests.js e2e          -> dist/test/e2e/**/*.test.js
//   node scripts/run-tests.js all
//   node scripts/run-tests.js <file-or-dir> ...  -> just those (compiled .js paths)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suites = {
  unit: ['dist/server', 'dist/pxe', 'dist/exports'],
  integration: ['dist/test/integration'],
  e2e: ['dist/test/e2e'],
};
suites.all = [...suites.unit, ...suites.integration, ...suites.e2e];

function walk(p, out) {
  let st;
  try { st = statSync(p); } catch { return; }
  if (st.isDirectory()) {
    for (const e of readdirSync(p).sort()) walk(join(p, e), out);
  } else if (p.endsWith('.test.js')) {
    out.push(p);
  }
}

const args = process.argv.slice(2);
const roots = args.length === 0 ? suites.unit : args.flatMap((a) => suites[a] ?? [a]);
const files = [];
for (const r of roots) walk(r, files);
if (files.length === 0) {
  console.error(`run-tests: no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.NETROOT_TEST_CONCURRENCY ?? '1';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--enable-source-maps', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
