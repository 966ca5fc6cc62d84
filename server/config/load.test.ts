import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, envName, loadConfig } from './load.js';

const noFile = join(tmpdir(), 'netroot-no-such-config.json');

test('embedded defaults work with no file at all', () => {
  const { config, source } = loadConfig({ env: { NETROOT_CONFIG: undefined }, uid: 1000, cwd: '/srv/x', path: undefined });
  assert.equal(source === null || source === '/etc/netroot/netroot.json', true);
  assert.equal(config.http.listen, '127.0.0.1');
  assert.equal(config.http.port, 8080);
  assert.equal(config.dataDir, '/srv/x/var');
  // A boot storm's burst of requests fits in the sockets' receive buffers.
  assert.equal(config.tftp.recvBufferBytes, 2 * 1024 * 1024);
  assert.equal(config.dhcp.recvBufferBytes, 2 * 1024 * 1024);
});

test('root defaults to /var/lib/netroot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrcfg-'));
  const f = join(dir, 'c.json');
  writeFileSync(f, '{}');
  assert.equal(loadConfig({ path: f, uid: 0 }).config.dataDir, '/var/lib/netroot');
});

test('file then environment, environment wins; values typed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrcfg-'));
  const f = join(dir, 'c.json');
  writeFileSync(f, JSON.stringify({ dataDir: 'data', http: { port: 9000 }, log: { level: 'debug' } }));
  const { config, warnings } = loadConfig({ path: f, cwd: dir, env: { NETROOT_HTTP_PORT: '9100', NETROOT_EVENTS_MAX_PER_NODE: '50', NETROOT_BOGUS: '1' } });
  assert.equal(config.dataDir, join(dir, 'data'));
  assert.equal(config.http.port, 9100);
  assert.equal(config.log.level, 'debug');
  assert.equal(config.events.maxPerNode, 50);
  assert.deepEqual(warnings, ['NETROOT_BOGUS is not a netroot setting; ignored']);
});

test('errors name the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrcfg-'));
  const f = join(dir, 'c.json');
  const bad = (obj: unknown, field: RegExp) => {
    writeFileSync(f, JSON.stringify(obj));
    assert.throws(() => loadConfig({ path: f }), (e: unknown) => e instanceof ConfigError && field.test(e.message));
  };
  bad({ http: { port: 70000 } }, /http\.port/);
  bad({ http: { prot: 1 } }, /http\.prot: unknown setting/);
  bad({ nosuch: 1 }, /nosuch: unknown setting/);
  bad({ log: { level: 'loud' } }, /log\.level/);
  bad({ tftp: { recvBufferBytes: 1000 } }, /tftp\.recvBufferBytes/);
  writeFileSync(f, '{ not json');
  assert.throws(() => loadConfig({ path: f }), /not valid JSON/);
  assert.throws(() => loadConfig({ path: noFile }), /cannot read/);
  assert.throws(() => loadConfig({ env: { NETROOT_HTTP_PORT: 'eighty' } }), /http\.port/);
});

test('env names follow the key path', () => {
  assert.equal(envName(['http', 'bodyLimitBytes']), 'NETROOT_HTTP_BODY_LIMIT_BYTES');
  assert.equal(envName(['dataDir']), 'NETROOT_DATA_DIR');
});
