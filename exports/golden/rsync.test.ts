import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseProgress2, rsyncArgv, SourceListing } from './rsync.js';

const host = { name: 'g1', address: '127.0.0.1', port: 2222, user: 'root', sourcePath: '/srv/golden' };
const identity = { privateKeyPath: '/var/lib/netroot/ssh/id_ed25519', knownHostsPath: '/var/lib/netroot/ssh/known_hosts' };

test('parseProgress2 reads rsync 3.2 progress2 lines', () => {
  assert.deepEqual(parseProgress2('      1,234,567  45%   12.34MB/s    0:00:01 (xfr#12, to-chk=34/100)'),
    { percent: 45, bytes: 1234567, rate: Math.round(12.34 * 1024 * 1024) });
  assert.deepEqual(parseProgress2('              0   0%    0.00kB/s    0:00:00 (xfr#0, ir-chk=1000/1001)'), { percent: 0, bytes: 0, rate: 0 });
  assert.deepEqual(parseProgress2('    104,857,600 100%  338.15MB/s    0:00:00 (xfr#3, to-chk=0/12)'), { percent: 100, bytes: 104857600, rate: Math.round(338.15 * 1048576) });
  assert.deepEqual(parseProgress2('          1.23G  99%  100.00MB/s    0:00:12'), { percent: 99, bytes: Math.round(1.23 * 1024 ** 3), rate: 104857600 });
  assert.equal(parseProgress2('etc/fstab'), null);
  assert.equal(parseProgress2('rsync: [sender] link_stat "/nope" failed: No such file or directory (2)'), null);
  assert.equal(parseProgress2('sent 1,234 bytes  received 56 bytes  2,580.00 bytes/sec'), null);
});

test('parseProgress2 never throws and returns sane numbers on arbitrary input', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const p = parseProgress2(s);
    return p === null || (p.percent >= 0 && p.percent <= 100 && p.bytes >= 0 && p.rate >= 0);
  }));
});

test('rsyncArgv: the seed\'s copy with link-dest, excludes and strict OpenSSH options', () => {
  const argv = rsyncArgv({ host, identity, dest: '/img/v2/root', linkDest: '/img/v1/root', excludes: ['/var/cache/dnf/*'] });
  assert.deepEqual(argv.slice(0, 7), ['rsync', '-aHAX', '--numeric-ids', '--delete', '--info=progress2', '--no-inc-recursive', '--link-dest=/img/v1/root']);
  for (const d of ['proc', 'sys', 'dev', 'media', 'mnt', 'tmp', 'home', 'run', 'srv']) assert.ok(argv.includes(`--exclude=/${d}/*`), d);
  assert.ok(argv.includes('--exclude=/var/cache/dnf/*'));
  const e = argv[argv.indexOf('-e') + 1]!;
  assert.equal(e, 'ssh -i /var/lib/netroot/ssh/id_ed25519 -p 2222 -o UserKnownHostsFile=/var/lib/netroot/ssh/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4');
  assert.deepEqual(argv.slice(-2), ['root@127.0.0.1:/srv/golden/', '/img/v2/root/']);
  assert.deepEqual(rsyncArgv({ host: { ...host, address: 'fd00::1' }, identity, dest: '/d' }).slice(-2), ['root@[fd00::1]:/srv/golden/', '/d/']);
});

test('rsyncArgv refuses fields that would break the -e command or the source spec', () => {
  assert.throws(() => rsyncArgv({ host, identity: { ...identity, privateKeyPath: '/a b' }, dest: '/d' }), /identity\.privateKeyPath/);
  assert.throws(() => rsyncArgv({ host: { ...host, user: 'x;y' }, identity, dest: '/d' }), /host\.user/);
  assert.throws(() => rsyncArgv({ host: { ...host, sourcePath: 'rel' }, identity, dest: '/d' }), /host\.sourcePath/);
});

test('SourceListing: same digest for a copy and a dry run of the same tree; any attribute change differs', () => {
  const copy = [
    'NRLS|.d         |rwxr-xr-x|0|0|4096|2026/11/27-00:25:08|./',
    'NRLS|cd+++++++++|rwxr-xr-x|0|0|4096|2026/11/27-00:25:08|a/',
    'NRLS|>f+++++++++|rw-r--r--|0|0|3|2026/11/27-00:25:08|a/h',
    '      3  42%    0.00kB/s    0:00:00 (xfr#1, to-chk=1/5)',
    'NRLS|cL+++++++++|rwxrwxrwx|0|0|1|2026/11/27-00:25:08|a/l -> f',
    'NRLS|hf+++++++++|rw-r--r--|0|0|3|2026/11/27-00:25:08|a/f => a/h',
  ];
  const dry = [
    'NRLS|.d         |rwxr-xr-x|0|0|4096|2026/11/27-00:25:08|./',
    'NRLS|.d         |rwxr-xr-x|0|0|4096|2026/11/27-00:25:08|a/',
    'NRLS|hf         |rw-r--r--|0|0|3|2026/11/27-00:25:08|a/f',
    'NRLS|hf         |rw-r--r--|0|0|3|2026/11/27-00:25:08|a/h => a/f',
    'NRLS|.L         |rwxrwxrwx|0|0|1|2026/11/27-00:25:08|a/l -> f',
    // What netroot added to the version is deleted by the comparison: not part of the source.
    'NRLS|*deleting  |rw-r--r--|0|0|10|2026/11/27-00:30:00|etc/rwtab.d/netroot',
  ];
  const digest = (lines: string[]) => {
    const l = new SourceListing();
    const taken = lines.filter((x) => l.add(x)).length;
    return { taken, count: l.count, digest: l.digest() };
  };
  const a = digest(copy);
  const b = digest(dry);
  assert.deepEqual([a.taken, a.count, b.taken, b.count], [5, 5, 6, 5]);
  assert.equal(a.digest, b.digest);
  assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
  for (const [i, changed] of [
    [2, 'NRLS|.f         |rw-r--r--|0|0|4|2026/11/27-00:25:08|a/h'],
    [2, 'NRLS|.f         |rw-r--r--|0|0|3|2026/11/27-00:25:09|a/h'],
    [2, 'NRLS|.f         |rw-------|0|0|3|2026/11/27-00:25:08|a/h'],
    [2, 'NRLS|.f         |rw-r--r--|1000|0|3|2026/11/27-00:25:08|a/h'],
    [4, 'NRLS|cL+++++++++|rwxrwxrwx|0|0|1|2026/11/27-00:25:08|a/l -> g'],
  ] as const) {
    const lines = [...copy];
    lines[i] = changed;
    assert.notEqual(digest(lines).digest, a.digest, changed);
  }
});

test('rsyncArgv: listing and dry run flags', () => {
  const argv = rsyncArgv({ host, identity, dest: '/v/root', listing: true, dryRun: true });
  assert.ok(argv.includes('--info=progress2,name2') && argv.includes('-n'));
  assert.ok(argv.some((a) => a.startsWith('--out-format=NRLS|%i|')));
  const plain = rsyncArgv({ host, identity, dest: '/v/root' });
  assert.ok(!plain.includes('-n') && !plain.some((a) => a.startsWith('--out-format')));
});
