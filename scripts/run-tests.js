#!/usr/bin/env node
// Runs compiled tests with Node's own test runner, one file at a time, and prints the time of
// each suite (and the slowest files) at the end, so the suite's budget (45 min on a 2-core
// machine) stays visible as it grows.
//   node scripts/run-tests.js unit         -> dist/{server,pxe,exports,bench}/**/*.test.js
//   node scripts/run-tests.js integration  -> dist/test/integration/**/*.test.js
//   node scripts/run-tests.js e2e          -> dist/test/e2e/**/*.test.js
//   node scripts/run-tests.js all          -> the three, in that order
//   node scripts/run-tests.js <file-or-dir> ...  -> just those (compiled .js paths)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suites = {
  unit: ['dist/server', 'dist/pxe', 'dist/exports', 'dist/bench'],
  integration: ['dist/test/integration'],
  e2e: ['dist/test/e2e'],
};
const ALL = ['unit', 'integration', 'e2e'];

function walk(p, out) {
  let st;
  try {
    st = statSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const e of readdirSync(p).sort()) walk(join(p, e), out);
  } else if (p.endsWith('.test.js')) {
    out.push(p);
  }
}

/** Groups to run: [{name, files}] in order. */
function plan(args) {
  const wanted = args.length === 0 ? ['unit'] : args.flatMap((a) => (a === 'all' ? ALL : [a]));
  const groups = [];
  for (const a of wanted) {
    const files = [];
    for (const r of suites[a] ?? [a]) walk(r, files);
    if (files.length === 0) {
      console.error(`run-tests: no test files under ${(suites[a] ?? [a]).join(', ')}`);
      process.exit(1);
    }
    const name = suites[a] ? a : 'files';
    const g = groups.find((x) => x.name === name);
    if (g) g.files.push(...files);
    else groups.push({ name, files });
  }
  return groups;
}

/** One file under `node --test`; its TAP goes to our stdout as it comes. Resolves with counts. */
function runFile(file) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', '--enable-source-maps', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (b) => {
      process.stdout.write(b);
      tail = (tail + b.toString('utf8')).slice(-4000);
    });
    child.on('close', (code, signal) => {
      const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tail)?.[1] ?? 0);
      resolve({
        file,
        ok: code === 0,
        code: code ?? signal,
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
        tests: count('tests'),
        fail: count('fail'),
        cancelled: count('cancelled'),
        skipped: count('skipped'),
      });
    });
  });
}

const mmss = (ms) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

const groups = plan(process.argv.slice(2));
const results = [];
const t0 = Date.now();
for (const g of groups) {
  const gs = Date.now();
  for (const f of g.files) results.push({ group: g.name, ...(await runFile(f)) });
  g.ms = Date.now() - gs;
}

const lines = ['', '# ---- test summary ----'];
for (const g of groups) {
  const rs = results.filter((r) => r.group === g.name);
  const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
  lines.push(`# ${g.name.padEnd(12)} ${mmss(g.ms).padStart(7)}  ${rs.length} files, ${sum('tests')} tests, ${sum('fail')} failed, ${sum('cancelled')} cancelled, ${sum('skipped')} skipped`);
}
lines.push(`# ${'total'.padEnd(12)} ${mmss(Date.now() - t0).padStart(7)}`);
lines.push('# slowest files:');
for (const r of [...results].sort((a, b) => b.ms - a.ms).slice(0, 10)) lines.push(`#   ${mmss(r.ms).padStart(7)}  ${r.file}`);
const failed = results.filter((r) => !r.ok);
for (const r of failed) lines.push(`# FAILED: ${r.file} (exit ${r.code}; ${r.fail} failed, ${r.cancelled} cancelled)`);
console.log(lines.join('\n'));
process.exit(failed.length ? 1 : 0);
