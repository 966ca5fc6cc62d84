/** Codec tests against captured client packets (test/fixtures/dhcp): golden dumps and exact round trips. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, emptyPacket, packetMac, messageType } from './packet.js';
import { dumpPacket } from './dump.js';
import { DhcpDecodeError } from './errors.js';
import { MessageType, Opt } from './constants.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/dhcp');
const bins = readdirSync(FIXTURES).filter((f) => f.endsWith('.bin')).sort();

test('fixtures are present', () => {
  assert.ok(bins.length >= 10, `expected captured packets in ${FIXTURES}`);
});

for (const f of bins) {
  test(`golden dump and round trip: ${f}`, () => {
    const bytes = readFileSync(join(FIXTURES, f));
    const p = decode(bytes);
    const golden = join(FIXTURES, f.replace(/\.bin$/, '.txt'));
    const dump = dumpPacket(p);
    if (process.env.NETROOT_UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, dump);
    assert.equal(dump, readFileSync(golden, 'utf8'));
    assert.deepEqual(encode(p), bytes, 'encode(decode(x)) must give back the captured bytes');
  });
}

test('decodes the fields PXE policy needs from the BIOS iPXE ROM', () => {
  const p = decode(readFileSync(join(FIXTURES, 'bios-ipxe-01-dhcp-discover.bin')));
  assert.equal(messageType(p), MessageType.Discover);
  assert.equal(packetMac(p), '52:54:00:77:00:10');
  assert.deepEqual(p.options.get(Opt.ClientArch), [0]);
  assert.equal(p.options.get(Opt.UserClass), 'iPXE');
  assert.match(p.options.get(Opt.VendorClassId) ?? '', /^PXEClient:Arch:00000/);
  assert.deepEqual(p.options.get(Opt.ClientNdi), { type: 1, major: 2, minor: 1 });
});

test('truncated, wrong-magic and wrong-op packets throw errors naming the field', () => {
  const good = readFileSync(join(FIXTURES, 'uefi-ipxe-01-dhcp-discover.bin'));
  assert.throws(() => decode(good.subarray(0, 100)), (e: unknown) => e instanceof DhcpDecodeError && e.code === 'truncated' && e.field === 'packet');
  const magic = Buffer.from(good);
  magic[236] = 0;
  assert.throws(() => decode(magic), (e: unknown) => e instanceof DhcpDecodeError && e.field === 'magic cookie');
  const op = Buffer.from(good);
  op[0] = 7;
  assert.throws(() => decode(op), (e: unknown) => e instanceof DhcpDecodeError && e.field === 'op');
  assert.throws(() => decode(good.subarray(0, good.length - 5)), (e: unknown) => e instanceof DhcpDecodeError && e.code === 'truncated' && /option 97/.test(e.field));
  assert.throws(() => decode(Buffer.alloc(9000)), (e: unknown) => e instanceof DhcpDecodeError && e.code === 'oversized');
});

test('a known option of the wrong size names the option', () => {
  const p = emptyPacket();
  p.options.set(Opt.MessageType, MessageType.Discover).set(250, Buffer.from([1]));
  const bytes = encode(p);
  // Turn private option 250 (1 byte) into option 97 with a 1-byte body.
  const at = bytes.indexOf(Buffer.from([250, 1, 1]), 240);
  bytes[at] = 97;
  assert.throws(() => decode(bytes), /option 97 ClientUuid: wrong size 1/);
});

test('overloaded file and sname fields are read (file first), and a loop is refused', () => {
  const p = emptyPacket();
  p.options.set(Opt.MessageType, MessageType.Request);
  const b = encode(p);
  const end = b.indexOf(255, 240);
  b[end] = Opt.Overload; // options: 53, 52=3, END
  const withOv = Buffer.concat([b.subarray(0, end), Buffer.from([52, 1, 3, 255])]);
  Buffer.from([12, 3, 0x61, 0x62, 0x63, 255]).copy(withOv, 108); // file: hostname "abc"
  Buffer.from([15, 2, 0x64, 0x65, 255]).copy(withOv, 44); // sname: domain "de"
  const d = decode(withOv);
  assert.equal(d.overload, 3);
  assert.equal(d.options.get(Opt.HostName), 'abc');
  assert.equal(d.options.get(Opt.DomainName), 'de');
  assert.equal(d.file, '');
  const again = decode(encode(d));
  assert.equal(again.options.get(Opt.HostName), 'abc');
  Buffer.from([52, 1, 3, 255]).copy(withOv, 108);
  assert.throws(() => decode(withOv), (e: unknown) => e instanceof DhcpDecodeError && e.code === 'bad-overload');
});

test('long options are split and joined again (RFC 3396)', () => {
  const p = emptyPacket(2);
  const long = 'x'.repeat(600);
  p.options.set(Opt.MessageType, MessageType.Ack).set(Opt.RootPath, long);
  const d = decode(encode(p));
  assert.equal(d.options.get(Opt.RootPath), long);
});
