import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { configSchema } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import { Health } from '../health.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { addressRules, createAddresses, describeStranded, stranded } from './addresses.js';

const subnet = { cidr: '10.91.0.0/24', router: '10.91.0.254', pool: { start: '10.91.0.100', end: '10.91.0.200' } };
const config = (dhcp: Record<string, unknown>, boot: Record<string, unknown> = {}) => configSchema.parse({ dataDir: '/d', dhcp, boot });
const node = (i: number, ipv4: string) => ({
  mac: `52:54:00:91:00:${i.toString(16).padStart(2, '0')}`, fqdn: `n${i}.lab.example`, ipv4,
  image: null, pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe' as const, stateMode: 'nfs' as const, enabled: true,
});

test('rules from the config: boot.serverAddress and the DHCP interfaces\' addresses are netroot\'s own; pools only in full mode', () => {
  const r = addressRules(config({ interfaces: ['va0'], subnets: [subnet] }, { serverAddress: '10.91.0.2' }), () => ['10.91.0.1']);
  assert.deepEqual(r.own, ['10.91.0.2', '10.91.0.1']);
  assert.equal(r.poolsServed, true);
  assert.equal(addressRules(config({ mode: 'proxy', subnets: [subnet] }), () => []).poolsServed, false);
  assert.throws(() => addressRules(config({ subnets: [{ cidr: '10.91.0.7/24' }] })), (e: unknown) => e instanceof ConfigError && e.field === 'dhcp.subnets[0].cidr');
});

test('stranded nodes are listed with their reasons: the first few and the count', () => {
  const rules = addressRules(config({ subnets: [subnet] }), () => ['10.91.0.1']);
  const nodes = [node(1, '10.91.0.1'), node(2, '10.91.0.10'), node(3, '10.91.0.0'), node(4, '10.91.0.150'), node(5, '10.92.0.1')].map((n, id) => ({ ...n, id, createdAt: 0, updatedAt: 0 }));
  const s = stranded(nodes, rules);
  assert.deepEqual(s.map((x) => x.node.fqdn), ['n1.lab.example', 'n3.lab.example', 'n4.lab.example', 'n5.lab.example']);
  assert.equal(
    describeStranded(s, 2),
    "n1.lab.example: 10.91.0.1 is netroot's own address on 10.91.0.0/24; n3.lab.example: 10.91.0.0 is the network address of 10.91.0.0/24; and 2 more",
  );
});

test('a reload that strands registered nodes is refused naming them; nodes already stranded do not block it; health counts them', async () => {
  const store = openSqliteStore(':memory:');
  try {
    await store.nodes.createMany([node(1, '10.91.0.10'), node(2, '10.91.0.20'), node(3, '10.77.0.5')]);
    const health = new Health();
    const a = createAddresses(config({ subnets: [subnet] }), { store, log: pino({ level: 'silent' }), ifaddrs: () => [] });
    health.register('addresses', a.health);
    assert.deepEqual((await a.report()).map((s) => s.node.fqdn), ['n3.lab.example']);
    const h = (await health.report()).subsystems.addresses!;
    assert.equal(h.status, 'degraded');
    assert.equal(h.stranded, 1);
    assert.match(h.detail!, /^1 registered node has an address DHCP will not give: n3\.lab\.example: 10\.77\.0\.5 is in no configured subnet/);
    // A pool grown over .10 and .20 strands two nodes that are fine today.
    const grown = config({ subnets: [{ ...subnet, pool: { start: '10.91.0.5', end: '10.91.0.200' } }] });
    await assert.rejects(a.checkReload(grown), (e: unknown) => e instanceof ConfigError && e.field === 'dhcp.subnets' && /leave 2 registered nodes .*n1\.lab\.example: 10\.91\.0\.10 is inside the dynamic pool/.test(e.message));
    // Fixing n3's network is allowed, and so is any change that strands no one new.
    const fixed = config({ subnets: [subnet, { cidr: '10.77.0.0/24' }] });
    await a.checkReload(fixed);
    a.reload(fixed);
    assert.equal(a.problem('10.77.0.5'), null);
    assert.equal((await health.report()).subsystems.addresses!.status, 'ok');
    assert.match(a.problem('10.91.0.255')!, /broadcast/);
  } finally {
    await store.close();
  }
});
