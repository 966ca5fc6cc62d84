/**
 * netroot's DHCP server for the benchmark, run inside the bench's server namespace:
 *
 *   node dist/bench/dhcp/serve.js memory|sqlite IFNAME SERVER_IP COUNT DIR [RCVBUF]
 *
 * memory: an in-memory BootDirectory (a Map) and a counting event sink, i.e. the DHCP code alone.
 * sqlite: the production path: openSqliteStore + storeDirectory (three indexed queries a lookup)
 *   + the BootRecorder writing boot events to SQLite in batches + the store's lease table, with
 *   COUNT nodes inserted first (image "bench", version 1 ready and active).
 * RCVBUF (bytes): the server's dhcp.recvBufferBytes (default 2 MiB; 0 = the kernel's default, to
 *   compare with the server before it set one). The kernel's figure is printed as "RCVBUF [...]".
 * Prints "READY", then "COUNTERS {json}" on SIGUSR2 and on SIGTERM (then exits 0, so --cpu-prof
 * writes its profile).
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { DhcpServer, PoolAllocator, type DhcpServerDeps } from '../../pxe/dhcp/index.js';
import type { BootTarget } from '../../pxe/boot/types.js';
import { openSqliteStore } from '../../server/store/sqlite/index.js';
import { storeDirectory, versionDir } from '../../server/boot/directory.js';
import { BootRecorder } from '../../server/events/recorder.js';
import { ROOT_PATH, fleet, netrootOptions } from './fleet.js';

const [kind, ifname, server, countArg, dir, rcvbufArg] = process.argv.slice(2);
if ((kind !== 'memory' && kind !== 'sqlite') || !ifname || !server || !countArg || !dir) {
  process.stderr.write('usage: serve.js memory|sqlite IFNAME SERVER_IP COUNT DIR\n');
  process.exit(2);
}
const nodes = fleet(Number(countArg));
const out = (tag: string, v: unknown) => process.stdout.write(`${tag} ${JSON.stringify(v)}\n`);
let events = 0;
const closers: (() => Promise<void>)[] = [];

async function memoryDeps(): Promise<DhcpServerDeps> {
  const byMac = new Map<string, BootTarget>(
    nodes.map((n) => [n.mac, {
      node: { mac: n.mac, fqdn: n.fqdn, ipv4: n.ipv4, bootMode: 'ipxe', enabled: true, kernelArgs: '', image: 'bench' },
      image: { name: 'bench', version: '1', kernelPath: '/k', initrdPath: '/i', rootPath: ROOT_PATH, kernelArgs: '' },
    }]),
  );
  return {
    directory: { lookup: async (mac) => byMac.get(mac) ?? null },
    events: () => void events++,
    discoveries: () => undefined,
    leases: new PoolAllocator(),
  };
}

async function sqliteDeps(): Promise<DhcpServerDeps> {
  const store = openSqliteStore(join(dir!, 'netroot.db'));
  const imagesDir = join(dir!, 'images');
  await store.images.create('bench');
  await store.versions.create({ image: 'bench', version: '1', state: 'ready', createdAt: Date.now(), kernel: null, error: null, kept: false, sizeBytes: null });
  await store.images.update('bench', { activeVersion: '1' });
  await store.nodes.createMany(nodes.map((n) => ({
    mac: n.mac, fqdn: n.fqdn, ipv4: n.ipv4, image: 'bench', pinnedVersion: null, kernelArgs: '', bootMode: 'ipxe', stateMode: 'nfs', enabled: true,
  })));
  // Warn level: what the service logs at its default level on this path (nothing per packet).
  const log = pino({ level: 'warn' }, pino.destination(2));
  const recorder = new BootRecorder(store, log, { maxPerNode: 1000, maxAgeDays: 30 });
  recorder.bus.on('event', () => void events++);
  closers.push(() => recorder.close(), () => store.close());
  out('STORE', { nodes: await store.nodes.count(), rootPath: join(versionDir(imagesDir, 'bench', '1'), 'root') });
  return { directory: storeDirectory(store, { imagesDir }), events: recorder.sink, discoveries: recorder.discovery, leases: store.leases };
}

const deps = kind === 'memory' ? await memoryDeps() : await sqliteDeps();
const dhcp = new DhcpServer({ ...netrootOptions(ifname, server), ...(rcvbufArg ? { recvBufferBytes: Number(rcvbufArg) } : {}) }, deps);
const report = () => out('COUNTERS', { ...dhcp.counters, events });
process.on('SIGUSR2', report);
process.on('SIGTERM', () => {
  void (async () => {
    await dhcp.stop();
    for (const c of closers) await c();
    report();
    process.exit(0);
  })();
});
try {
  await dhcp.start();
  const sockets = (dhcp as unknown as { sockets: { socket: { getRecvBufferSize(): number } }[] }).sockets;
  out('RCVBUF', sockets.map((s) => s.socket.getRecvBufferSize()));
  process.stdout.write('READY\n');
} catch (e) {
  process.stdout.write(`FAILED ${(e as Error).message}\n`);
  process.exit(2);
}
