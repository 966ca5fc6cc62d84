/**
 * A crafted DHCP client for namespace tests: sends DISCOVERs (broadcast flag set) from port 68 on
 * one interface with a chosen MAC, arch (93), user class (77) and vendor class, and prints each
 * reply as "REPLY {...}". With --junk N it first sends N random/mutated packets (live fuzz).
 *
 *   node raw-client.js IFNAME MAC ARCH|- USERCLASS|- [--port 67] [--junk N] [--wait MS]
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, emptyPacket, encode, macToBytesFor } from './raw-packets.js';
import { openIfSocket, sendTo, closeIfSocket } from '../../../pxe/dhcp/transport.js';
import { FLAG_BROADCAST, MessageType, Opt } from '../../../pxe/dhcp/constants.js';

const [ifname, mac, arch, userClass, ...rest] = process.argv.slice(2);
const flag = (n: string, d: number) => {
  const i = rest.indexOf(n);
  return i >= 0 ? Number(rest[i + 1]) : d;
};
const port = flag('--port', 67);
const junk = flag('--junk', 0);
const waitMs = flag('--wait', 3000);

const s = await openIfSocket(ifname!, 68);
s.socket.on('message', (buf) => {
  try {
    const p = decode(buf);
    process.stdout.write(`REPLY ${JSON.stringify({ type: p.options.get(Opt.MessageType), xid: p.xid, yiaddr: p.yiaddr, siaddr: p.siaddr, file: p.file, hostname: p.options.get(Opt.HostName) ?? null, ipxe: p.options.get(Opt.IpxeEncap)?.map((x) => [x.code, [...x.data]]) ?? null })}\n`);
  } catch (e) {
    process.stdout.write(`BADREPLY ${(e as Error).message}\n`);
  }
});

if (junk > 0) {
  const dir = join(process.cwd(), 'test/fixtures/dhcp');
  const seeds = readdirSync(dir).filter((f) => f.endsWith('.bin')).map((f) => readFileSync(join(dir, f)));
  const started = Date.now();
  let sent = 0;
  // Bounded in count and time (60 s); paced in bursts so the kernel queue is not the only thing tested.
  for (let i = 0; i < junk && Date.now() - started < 60_000; i++) {
    let b: Buffer;
    if (i % 3 === 0) b = randomBytes(Math.floor(Math.random() * 700));
    else {
      b = Buffer.from(seeds[i % seeds.length]!);
      for (let k = 0; k < 1 + (i % 6); k++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
      if (i % 5 === 0) b = b.subarray(0, Math.floor(Math.random() * b.length));
    }
    await sendTo(s, b, port, '255.255.255.255');
    sent++;
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  process.stdout.write(`JUNK ${sent}\n`);
}

const d = emptyPacket();
d.xid = randomBytes(4).readUInt32BE(0);
d.flags = FLAG_BROADCAST;
macToBytesFor(mac!).copy(d.chaddr);
d.options.set(Opt.MessageType, MessageType.Discover).set(Opt.ParameterRequestList, [1, 3, 6, 12, 15, 17, 66, 67, 175]);
if (arch && arch !== '-') {
  d.options.set(Opt.ClientArch, [Number(arch)]).set(Opt.VendorClassId, `PXEClient:Arch:${arch.padStart(5, '0')}:UNDI:003010`);
}
if (userClass && userClass !== '-') d.options.set(Opt.UserClass, userClass);
await sendTo(s, encode(d), port, '255.255.255.255');
await new Promise((r) => setTimeout(r, waitMs));
await closeIfSocket(s);
process.stdout.write('DONE\n');
