/** Codec tests against captured client packets (test/fixtures/dhcp): golden dumps and exact round trips. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, emptyPacket, packetMac, messageType } from './packet.js';
import { dumpPacket } from './dump.js';
import { DhcpDecodeError, DhcpEncodeError } from './errors.js';
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

test('long options: each piece 255 bytes but the last, in order, whatever the length (RFC 3396)', () => {
  for (const n of [254, 255, 256, 510, 511, 600]) {
    const p = emptyPacket(2);
    const long = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    p.options.set(Opt.MessageType, MessageType.Ack).set(Opt.RootPath, long).set(Opt.HostName, 'h');
    const b = encode(p);
    // After the cookie: 53 first, then the pieces of 17, then 12, then END.
    let at = 240;
    assert.deepEqual([...b.subarray(at, at + 3)], [53, 1, 5]);
    at += 3;
    let got = '';
    while (b[at] === Opt.RootPath) {
      const len = b[at + 1]!;
      got += b.subarray(at + 2, at + 2 + len).toString('latin1');
      at += 2 + len;
      if (b[at] === Opt.RootPath) assert.equal(len, 255, `n=${n}: a piece before the last is full`);
    }
    assert.equal(got, long, `n=${n}`);
    assert.deepEqual([...b.subarray(at, at + 4)], [12, 1, 104, 255], `n=${n}`);
    assert.equal(b.length, Math.max(300, at + 4));
    assert.ok(b.subarray(at + 4).every((x) => x === 0), 'padding is zeros');
  }
});

test('encode refuses what cannot go on the wire, naming the field; addresses as before', () => {
  const bad = (f: (p: ReturnType<typeof emptyPacket>) => void, field: RegExp) => {
    const p = emptyPacket(2);
    p.options.set(Opt.MessageType, MessageType.Offer);
    f(p);
    assert.throws(() => encode(p), (e: unknown) => e instanceof DhcpEncodeError && field.test(e.field), field.source);
  };
  bad((p) => (p.yiaddr = '10.0.0'), /^yiaddr$/);
  bad((p) => (p.yiaddr = '10.0.0.256'), /^yiaddr$/);
  bad((p) => (p.yiaddr = '10.0.0.1.2'), /^yiaddr$/);
  bad((p) => (p.giaddr = '10.0.0.1 '), /^giaddr$/);
  bad((p) => (p.siaddr = ''), /^siaddr$/);
  bad((p) => (p.file = 'f'.repeat(129)), /^file$/);
  bad((p) => p.options.set(Opt.Router, ['10.0.0.1', '10.0.0.x']), /^option 3 /);
  bad((p) => p.options.set(Opt.MessageType, 256), /^option 53 /);
  bad((p) => p.options.set(Opt.MaxMessageSize, 70_000), /^option 57 /);
  bad((p) => p.options.set(Opt.ParameterRequestList, [1, -1]), /^option 55 /);
  bad((p) => p.options.set(Opt.RootPath, ''), /^option 17 /);
  bad((p) => p.options.set(Opt.IpxeEncap, [{ code: 1, data: Buffer.alloc(256) }]), /^option 175 /);
  // One to three digits a part, as the encoder has always taken them.
  const p = emptyPacket(2);
  p.yiaddr = '010.001.0.9';
  p.options.set(Opt.MessageType, MessageType.Offer).set(Opt.SubnetMask, '255.255.0.0').set(Opt.IpxeEncap, [{ code: 176, data: Buffer.from([1]) }, { code: 177, data: Buffer.alloc(0) }]);
  const d = decode(encode(p));
  assert.equal(d.yiaddr, '10.1.0.9');
  assert.equal(d.options.get(Opt.SubnetMask), '255.255.0.0');
  assert.deepEqual(d.options.get(Opt.IpxeEncap), [{ code: 176, data: Buffer.from([1]) }, { code: 177, data: Buffer.alloc(0) }]);
});
