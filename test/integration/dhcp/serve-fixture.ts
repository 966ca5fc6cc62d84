/**
 * Runnable entry for namespace tests: starts a DhcpServer with an in-memory BootDirectory read from
 * a JSON file, prints one line per event ("EVENT {...}"), discovery ("DISCOVERY {...}"), the rivals
 * found at start ("RIVALS [...]"), "READY" once serving, and "COUNTERS {...}" on SIGUSR2 or SIGTERM.
 *
 *   node dist/test/integration/dhcp/serve-fixture.js fixture.json
 * fixture.json: { "options": DhcpServerOptions, "nodes": BootTarget[],
 *                 "generated"?: { "macBase": "00:0c:01:02:03:04", "ipBase": "10.51.3.10", "count": 10000 } }
 */
import { readFileSync } from 'node:fs';
import { DhcpServer, PoolAllocator, type DhcpServerOptions } from '../../../pxe/dhcp/index.js';
import type { BootTarget } from '../../../pxe/boot/types.js';
import { ipToInt, intToIp } from '../../../pxe/net/ipv4.js';

interface Fixture {
  options: DhcpServerOptions;
  nodes: BootTarget[];
  generated?: { macBase: string; ipBase: string; count: number };
}

const fixture = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Fixture;
const byMac = new Map(fixture.nodes.map((n) => [n.node.mac, n]));
if (fixture.generated) {
  const g = fixture.generated;
  const base = BigInt(`0x${g.macBase.replace(/:/g, '')}`);
  for (let i = 0; i < g.count; i++) {
    const mac = (base + BigInt(i)).toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
    const ip = intToIp(ipToInt(g.ipBase) + i);
    byMac.set(mac, { node: { mac, fqdn: `gen${i}.bench.example`, ipv4: ip, bootMode: 'ipxe', enabled: true, kernelArgs: '', image: null }, image: null });
  }
}

const out = (tag: string, v: unknown) => process.stdout.write(`${tag} ${JSON.stringify(v)}\n`);
const server = new DhcpServer(fixture.options, {
  directory: { lookup: async (mac) => byMac.get(mac) ?? null },
  events: (e) => out('EVENT', e),
  discoveries: (d) => out('DISCOVERY', d),
  leases: new PoolAllocator(),
});

process.on('SIGUSR2', () => out('COUNTERS', server.counters));
process.on('SIGTERM', () => {
  out('COUNTERS', server.counters);
  void server.stop().then(() => process.exit(0));
});

try {
  await server.start();
  out('RIVALS', server.rivals);
  process.stdout.write('READY\n');
} catch (e) {
  process.stdout.write(`FAILED ${(e as Error).message}\n`);
  process.exit(2);
}
