import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config/load.js';
import { dhcpOptions } from '../../server/wiring/dhcp.js';
import { dnsmasqConf, netrootConfig, netrootImport, nginxConf, referenceScripts } from './configs.js';
import { LOADER_NAME, POOL, stormFleet } from './fleet.js';
import { scriptUrls } from './nodes.js';

test('the netroot config is one `netroot serve` accepts, with the pool only when asked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storm-cfg-'));
  try {
    for (const pool of [false, true]) {
      const f = join(dir, `c${pool}.json`);
      writeFileSync(f, JSON.stringify(netrootConfig({ dataDir: join(dir, 'data'), ifname: 'va0', pool, loaderPath: '/x/loader' })));
      const { config } = loadConfig({ path: f, env: {} });
      const d = dhcpOptions(config);
      assert.deepEqual(d.subnets[0]!.pool ?? null, pool ? POOL : null);
      assert.equal(d.bootFiles?.[7], LOADER_NAME);
      assert.equal(config.boot.loaders[LOADER_NAME], '/x/loader');
      assert.equal(config.nfs.backend, 'none');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dnsmasq reserves the registered nodes only; pool and no-ping only in the pool run', () => {
  const nodes = stormFleet(10, 0.2);
  const base = { ifname: 'va0', nodes, tftpRoot: '/t', leaseFile: '/l', pidFile: '/p', logFile: '/g' };
  const fixed = dnsmasqConf({ ...base, pool: false });
  const hosts = fixed.split('\n').filter((l) => l.startsWith('dhcp-host='));
  assert.deepEqual(hosts.slice(0, 2), ['dhcp-host=02:5e:00:00:00:00,10.60.16.1,n0', 'dhcp-host=02:5e:00:00:00:01,10.60.16.2,n1']);
  assert.equal(hosts.length, 8);
  assert.match(fixed, /^dhcp-range=10\.60\.0\.0,static,/m);
  assert.doesNotMatch(fixed, /no-ping/);
  const pooled = dnsmasqConf({ ...base, pool: true });
  assert.match(pooled, new RegExp(`^dhcp-range=${POOL.start},${POOL.end},`, 'm'));
  assert.match(pooled, /^no-ping$/m);
  assert.doesNotMatch(dnsmasqConf({ ...base, pool: true, ping: true }), /no-ping/);
  assert.match(pooled, /^dhcp-boot=tag:ipxe,http:\/\/10\.60\.0\.1:8080\/boot\/\$\{mac\}\.ipxe$/m);
  assert.deepEqual(netrootImport(nodes).map((n) => n.mac), hosts.map((h) => h.split(/[=,]/)[1]));
});

test('nginx serves netroot\'s URLs: every script\'s kernel and initrd paths match its file location', () => {
  const nodes = stormFleet(3, 0.34);
  const scripts = referenceScripts(nodes, '/var/lib/netroot/images/storm/1/root');
  assert.deepEqual([...scripts.keys()], ['02:5e:00:00:00:00.ipxe', '02:5e:00:00:00:01.ipxe', 'unknown.ipxe']);
  const conf = nginxConf({ prefix: '/p', scriptsDir: '/s', filesDir: '/f', pidFile: '/p/pid', errorLog: '/p/e', accessLog: '/p/a' });
  const locations = [...conf.matchAll(/location ~ (\S+) \{/g)].map((m) => new RegExp(m[1]!));
  const [scriptLoc, fileLoc] = locations;
  assert.ok(scriptLoc!.test('/boot/02:5e:00:00:00:00.ipxe'));
  const urls = scriptUrls(scripts.get('02:5e:00:00:00:01.ipxe')!)!;
  for (const u of [urls.kernel, urls.initrd]) assert.ok(fileLoc!.test(new URL(u).pathname), u);
  assert.equal(new URL(urls.initrd).pathname, '/boot/02:5e:00:00:00:01/1/initrd.img');
  assert.equal(scriptUrls(scripts.get('unknown.ipxe')!), null);
  assert.match(conf, /sendfile on;/);
});
