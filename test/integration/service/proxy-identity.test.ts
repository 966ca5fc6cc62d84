/**
 * Proxy mode beside a site DHCP server that does not reserve the registered address (issue:
 * "boots without state, silently"). netroot runs as `netroot serve` in proxy mode in a namespace;
 * a node asks for its boot script with curl from the address the site gave it, then from its
 * registered one. Namespaces and 10.51.210.x only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Lab, type Ns } from '../../helpers/netns.js';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';

const MAC = '02:51:d2:00:00:01';
let lab: Lab;
let srv: Ns;
let cli: Ns;
let nr: Netroot;

before(async () => {
  lab = await Lab.create('prx');
  srv = await lab.ns('srv');
  cli = await lab.ns('cli');
  await lab.link(srv, '10.51.210.1/24', cli, null);
  nr = await startNetroot({
    wrap: ['ip', 'netns', 'exec', srv.name],
    config: {
      http: { listen: '0.0.0.0', port: 8080 },
      boot: { serverAddress: '10.51.210.1' },
      dhcp: { interfaces: ['va0'], mode: 'proxy', subnets: [{ cidr: '10.51.210.0/24' }], detectRivalsAtStart: false },
    },
  });
  assert.equal((await nr.api('POST', '/images', { name: 'img' })).status, 201);
  // A published version to boot, put in place as a pull would leave it (what is tested here is
  // the boot request, not the golden-host pipeline, which other tests cover).
  const vdir = join(nr.dataDir, 'images', 'img', '1');
  mkdirSync(join(vdir, 'root'), { recursive: true });
  mkdirSync(join(vdir, 'boot'), { recursive: true });
  writeFileSync(join(vdir, 'boot', 'vmlinuz'), 'kernel');
  writeFileSync(join(vdir, 'boot', 'initramfs.img'), 'initramfs');
  const db = new Database(join(nr.dataDir, 'netroot.db'));
  db.prepare("INSERT INTO versions (image, version, state, created_at) VALUES ('img', '1', 'ready', ?)").run(Date.now());
  db.prepare("UPDATE images SET active_version = '1' WHERE name = 'img'").run();
  db.close();
  const r = await nr.api('POST', '/nodes', { mac: MAC, fqdn: 'n1.lab.example', ipv4: '10.51.210.10', image: 'img' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});

after(async () => {
  await nr?.stop();
  await lab?.destroy();
  if (nr) removeDir(nr.dataDir);
});

async function scriptFrom(addr: string): Promise<string> {
  await cli.run(['ip', 'addr', 'flush', 'dev', 'vb0']);
  await cli.run(['ip', 'addr', 'add', `${addr}/24`, 'dev', 'vb0']);
  const r = await cli.run(['curl', '-sS', '--max-time', '10', `http://10.51.210.1:8080/boot/${MAC}.ipxe`]);
  return r.stdout;
}

async function events(kind: string) {
  for (let i = 0; i < 30; i++) {
    const items = (await nr.api('GET', `/nodes/${MAC}/events`)).body.items as { kind: string; detail: Record<string, unknown> }[];
    const hit = items.filter((e) => e.kind === kind);
    if (hit.length) return hit;
    await new Promise((res) => setTimeout(res, 100));
  }
  return [];
}

test('proxy mode: a node asking from an unreserved address is refused with the reason, and the event is on its timeline', async () => {
  const text = await scriptFrom('10.51.210.57');
  assert.doesNotMatch(text, /^kernel /m);
  assert.match(text, /n1\.lab\.example is registered at 10\.51\.210\.10 but asked from 10\.51\.210\.57: its state is exported to 10\.51\.210\.10 only\. Reserve 10\.51\.210\.10 for 02:51:d2:00:00:01 on the site DHCP server/);
  const ev = await events('boot.address');
  assert.deepEqual(ev.at(-1)!.detail, { registered: '10.51.210.10', seen: '10.51.210.57', action: 'refused' });
  assert.match(nr.proc.output(), /node asked from an address other than its registered one/);
});

test('from its registered address the node is answered, with its identity on the command line', async () => {
  const before = (await events('boot.address')).length;
  const text = await scriptFrom('10.51.210.10');
  assert.match(text, /^kernel http:\/\/10\.51\.210\.1:8080\/boot\/02:51:d2:00:00:01\/1\/vmlinuz .*root=nfs:10\.51\.210\.1:\S+\/images\/img\/1\/root /m);
  // The site DHCP server's hostname (or none) does not decide which state directory it mounts.
  assert.match(text, / netroot\.fqdn=n1\.lab\.example /);
  assert.equal((await events('boot.address')).length, before, 'no address event from its own address');
});
