#!/usr/bin/env node
// Gets a checkout ready to run: checks the prerequisites, installs the npm dependencies (npm ci)
// when node_modules is missing or older than package-lock.json, then builds. `npm start` and
// `npm test` run it first, so a new user needs no other step. No dependencies of its own: it
// runs before there are any.
//
// better-sqlite3 is built from source when its prebuilt binaries cannot be downloaded (they
// cannot on these machines): that needs python3, make and a C++ compiler. Without them npm ci
// fails deep inside node-gyp; this says what is missing and how to get it instead.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (m) => process.stderr.write(`setup: ${m}\n`);

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  say(`netroot needs Node.js 20 or newer; this is ${process.version}. On Debian 12: install nodejs 20 from NodeSource or your distribution's backports.`);
  process.exit(1);
}

const onPath = (cmd) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));

function needsInstall() {
  const lock = join(ROOT, 'package-lock.json');
  const stamp = join(ROOT, 'node_modules', '.package-lock.json');
  if (!existsSync(stamp)) return true;
  return statSync(lock).mtimeMs > statSync(stamp).mtimeMs;
}

function run(argv, what) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    say(`${what} failed (${argv.join(' ')}: exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

if (needsInstall()) {
  const missing = [];
  if (!onPath('python3')) missing.push('python3');
  if (!onPath('make')) missing.push('make');
  if (!onPath('g++') && !onPath('c++') && !onPath('clang++')) missing.push('a C++ compiler (g++)');
  if (missing.length) {
    say(`cannot install the npm dependencies: ${missing.join(', ')} missing.`);
    say('better-sqlite3 and netroot\'s socket helper are compiled from source (prebuilt binaries are not downloaded here).');
    say('On Debian/Ubuntu, as root: apt-get install -y build-essential python3   (RHEL family: dnf install -y gcc-c++ make python3)');
    process.exit(1);
  }
  say('installing npm dependencies (npm ci)');
  run(['npm', 'ci', '--no-audit', '--no-fund'], 'npm ci');
}
run(['bash', join(ROOT, 'scripts', 'build.sh')], 'build');
