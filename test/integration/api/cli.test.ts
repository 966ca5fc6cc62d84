/** The `netroot` CLI as a subprocess against the real service. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { freePort } from '../golden/sshd.js';

/** Parses a --json answer, failing with the CLI's own words when there is none. */
function json(r: { code: number; stdout: string; stderr: string }) {
  assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}; stdout: ${r.stdout}`);
  return JSON.parse(r.stdout);
}

describe('netroot CLI', () => {
  let nr: Netroot;
  before(async () => {
    nr = await startNetroot();
  });
  after(async () => {
    await nr.stop();
    removeDir(nr.dataDir);
  });

  test('node add, list, show, set, events, rm', async () => {
    const add = await nr.cli(['node', 'add', '--mac', '52:54:00:20:00:01', '--fqdn', 'cli1.lab.example', '--ip', '10.9.2.1', '--args', 'console=ttyS0']);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /registered cli1\.lab\.example/);
    const list = await nr.cli(['node', 'list']);
    assert.match(list.stdout, /^FQDN\s+MAC\s+IPV4/m);
    assert.match(list.stdout, /cli1\.lab\.example\s+52:54:00:20:00:01\s+10\.9\.2\.1/);
    const listed = json(await nr.cli(['node', 'list', '--json']));
    assert.equal(listed.total, 1);
    const show = await nr.cli(['node', 'show', '52-54-00-20-00-01']);
    assert.match(show.stdout, /kernelArgs\s+console=ttyS0/);
    const set = await nr.cli(['node', 'set', 'cli1.lab.example', '--disabled', '--boot-mode', 'pxelinux']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /enabled\s+false/);
    assert.equal((await nr.cli(['node', 'set', 'cli1.lab.example', '--enabled', 'true'])).code, 0);
    assert.equal((await nr.cli(['node', 'events', 'cli1.lab.example'])).code, 0);
    const rm = await nr.cli(['node', 'rm', 'cli1.lab.example']);
    assert.match(rm.stdout, /deleted cli1\.lab\.example.*archived/);
    const gone = await nr.cli(['node', 'show', 'cli1.lab.example']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /not found/);
  });

  test('errors name the field and set the exit code', async () => {
    const bad = await nr.cli(['node', 'add', '--mac', 'xx', '--fqdn', 'a.lab.example', '--ip', '10.9.2.9']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /mac: not a MAC address/);
    const usage = await nr.cli(['node', 'frobnicate']);
    assert.equal(usage.code, 2);
    const flag = await nr.cli(['node', 'list', '--colour']);
    assert.equal(flag.code, 2);
    const noauth = await nr.cli(['node', 'list'], { token: 'nrt_wrong' });
    assert.equal(noauth.code, 3);
    assert.match(noauth.stderr, /unknown or revoked token/);
    assert.match(noauth.stderr, /token given with NETROOT_TOKEN was refused/);
    // A CLI user is told about --token and NETROOT_TOKEN, not about an HTTP header.
    const none = await nr.cli(['node', 'list'], { token: '' });
    assert.equal(none.code, 3);
    assert.match(none.stderr, /no API token given: pass --token nrt_\.\.\. or set NETROOT_TOKEN/);
  });

  test('import CSV from a file and JSON from stdin, all or nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrcli-'));
    const csv = join(dir, 'nodes.csv');
    writeFileSync(csv, 'mac,hostname,ip,enabled\n52:54:00:30:00:01,c1.lab.example,10.9.3.1,yes\n"52:54:00:30:00:02",c2.lab.example,10.9.3.2,no\n');
    const r = await nr.cli(['node', 'import', csv]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 2 nodes/);
    const c2 = json(await nr.cli(['node', 'show', 'c2.lab.example', '--json']));
    assert.equal(c2.enabled, false);
    const js = JSON.stringify([
      { mac: '52:54:00:30:00:03', fqdn: 'c3.lab.example', ipv4: '10.9.3.3' },
      { mac: '52:54:00:30:00:04', fqdn: 'c1.lab.example', ipv4: '10.9.3.4' },
    ]);
    const dup = await nr.cli(['node', 'import', '-'], { input: js });
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /\[1\]\.fqdn: c1\.lab\.example is already used/);
    assert.equal(json(await nr.cli(['node', 'list', '--json'])).total, 2);
    removeDir(dir);
  });

  test('token create, list, revoke; --local on the server itself', async () => {
    const c = await nr.cli(['token', 'create', 'robot', '--read-only', '--json']);
    assert.equal(c.code, 0, c.stderr);
    const secret = json(c).secret as string;
    assert.equal((await nr.cli(['node', 'list'], { token: secret })).code, 0);
    assert.equal((await nr.cli(['node', 'add', '--mac', '52:54:00:40:00:01', '--fqdn', 'r.lab.example', '--ip', '10.9.4.1'], { token: secret })).code, 3);
    assert.match((await nr.cli(['token', 'list'])).stdout, /robot\s+readonly/);
    assert.equal((await nr.cli(['token', 'revoke', 'robot'])).code, 0);
    assert.equal((await nr.cli(['node', 'list'], { token: secret })).code, 3);
    const local = await nr.cli(['token', 'create', 'rescue', '--local', '--config', nr.configPath, '--json']);
    assert.equal(local.code, 0, local.stderr);
    assert.equal((await nr.cli(['node', 'list'], { token: json(local).secret })).code, 0);
  });

  test('status prints subsystem health', async () => {
    const s = await nr.cli(['status']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /store\s+ok/);
  });
});

test('a first start without boot loaders is healthy while TFTP is off, degraded once TFTP would serve them', async () => {
  // This machine has the loader packages installed; point every loader at a missing file to be a
  // fresh machine.
  const loaders = Object.fromEntries(['undionly.kpxe', 'ipxe.efi', 'snponly.efi', 'pxelinux.0', 'ldlinux.c32'].map((n) => [n, `/nonexistent/${n}`]));
  const nr = await startNetroot({ config: { boot: { loaders } } });
  try {
    const s = await nr.cli(['status']);
    assert.equal(s.code, 0, `DHCP and TFTP are off by default: nothing is wrong\n${s.stdout}${s.stderr}`);
    assert.match(s.stdout, /: ok \(up/);
    assert.match(s.stdout, /loaders\s+off\s+TFTP is off, so no loader is served; not installed: undionly\.kpxe/);
    assert.doesNotMatch(nr.proc.output(), /"level":"warn"[^\n]*boot loader/, 'no warning about loaders nothing serves');
    assert.match(nr.proc.output(), /boot loaders not installed; only needed once TFTP serves them/);
  } finally {
    await nr.stop();
  }
  const port = await freePort();
  const on = await startNetroot({ dataDir: nr.dataDir, config: { boot: { loaders }, tftp: { enabled: true, listen: '127.0.0.1', port } } });
  try {
    const s = await on.cli(['status'], { token: nr.token });
    assert.equal(s.code, 1, s.stdout);
    assert.match(s.stdout, /loaders\s+degraded\s+boot loader undionly\.kpxe .*install Debian package ipxe/);
    assert.match(on.proc.output(), /"level":"warn"[^\n]*boot loader undionly\.kpxe/);
  } finally {
    await on.stop();
    removeDir(nr.dataDir);
  }
});

test('serve refuses a bad config naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrcfg-'));
  writeFileSync(join(dir, 'c.json'), JSON.stringify({ dataDir: dir, http: { port: 'eighty' } }));
  const { execFile } = await import('node:child_process');
  const { BIN } = await import('../../helpers/service.js');
  const r = await new Promise<{ code: number; stderr: string }>((res) =>
    execFile(process.execPath, [BIN, 'serve', '--config', join(dir, 'c.json')], (err, _o, stderr) => res({ code: (err as { code?: number } | null)?.code ?? 0, stderr })),
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /http\.port/);
  removeDir(dir);
});
