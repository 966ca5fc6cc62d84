/** The server against a scripted peer: negotiation, windows, duplicate ACKs, TIDs, timeouts, refusals. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Op, ErrorCode } from '../../../pxe/tftp/constants.js';
import { RawClient, rawFetch } from './raw-client.js';
import type { TftpPacket } from '../../../pxe/tftp/codec.js';
import { startHarness, sha256, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  // Timeouts far longer than any drain() below: the scripted peer takes its time, and a timer that
  // fires inside a drain would add packets the test does not expect. The measured timeout is held
  // at 1 s too (its floor), or a fast first ACK would bring it down to milliseconds.
  h = await startHarness({ timeoutMs: 1000, minTimeoutMs: 1000, maxTimeoutMs: 2000, retries: 2, maxPerClient: 64 });
});
after(async () => h.close());

test('plain RRQ (no options): 512-byte lock-step, a file of whole blocks ends with an empty block', async () => {
  const r = await rawFetch(h.port, 'exact512.bin');
  assert.equal(sha256(r.data), h.sha['exact512.bin']);
  assert.equal(r.dataPackets, 5);
});

test('OACK answers blksize, tsize, windowsize; the window slides on its last ACK', async () => {
  const c = await RawClient.open();
  c.send({ op: Op.Rrq, filename: '1m.bin', mode: 'octet', options: [{ name: 'TSize', value: '0' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '4' }, { name: 'timeout', value: '10' }, { name: 'bogus', value: '1' }] }, h.port);
  const o = await c.recv();
  assert.ok(o && o.pkt.op === Op.Oack);
  assert.deepEqual(o.pkt.op === Op.Oack && o.pkt.options, [
    { name: 'TSize', value: String(1 << 20) },
    { name: 'blksize', value: '1468' },
    { name: 'windowsize', value: '4' },
    { name: 'timeout', value: '10' },
  ]);
  const tid = o.from.port;
  assert.notEqual(tid, h.port, 'transfer runs on its own port (TID)');
  c.send({ op: Op.Ack, block: 0 }, tid);
  let got = await c.drain(100);
  assert.deepEqual(got.map((g) => g.pkt.op === Op.Data && g.pkt.block), [1, 2, 3, 4]);
  // Duplicate ACK 0 and an out-of-window ACK: no data (RFC 1123 4.2.3.2).
  c.send({ op: Op.Ack, block: 0 }, tid);
  c.send({ op: Op.Ack, block: 9 }, tid);
  got = await c.drain(100);
  assert.equal(got.length, 0, 'duplicate/out-of-window ACKs are not answered');
  // ACK 2 (client missed 3): window restarts at 3.
  c.send({ op: Op.Ack, block: 2 }, tid);
  got = await c.drain(100);
  assert.deepEqual(got.map((g) => g.pkt.op === Op.Data && g.pkt.block), [3, 4, 5, 6]);
  c.send({ op: Op.Error, code: 0, message: 'enough' }, tid);
  c.close();
});

test('a packet from a foreign TID gets error 5 and the transfer goes on', async () => {
  const c = await RawClient.open();
  const stranger = await RawClient.open();
  c.send({ op: Op.Rrq, filename: 'small.bin', mode: 'octet', options: [] }, h.port);
  const d1 = await c.recv();
  assert.ok(d1 && d1.pkt.op === Op.Data && d1.pkt.block === 1);
  stranger.send({ op: Op.Ack, block: 1 }, d1.from.port);
  const e = await stranger.recv();
  assert.ok(e && e.pkt.op === Op.Error && e.pkt.code === ErrorCode.UnknownTid);
  c.send({ op: Op.Ack, block: 1 }, d1.from.port);
  const d2 = await c.recv();
  assert.ok(d2 && d2.pkt.op === Op.Data && d2.pkt.block === 2 && d2.pkt.data.length === 1000 - 512);
  c.send({ op: Op.Ack, block: 2 }, d1.from.port);
  c.close();
  stranger.close();
});

test('no ACK: retransmit on timeout with backoff, then give up (result timeout)', async () => {
  // 200 ms, then 400 ms twice: given up after 1 s of silence with two retransmissions.
  const h2 = await startHarness({ timeoutMs: 200, minTimeoutMs: 200, maxTimeoutMs: 400, retries: 2 });
  const c = await RawClient.open();
  try {
    c.send({ op: Op.Rrq, filename: 'small.bin', mode: 'octet', options: [] }, h2.port);
    const got = await c.drain(2000);
    const blocks = got.map((g) => g.pkt.op === Op.Data && g.pkt.block);
    assert.deepEqual(blocks, [1, 1, 1], 'first send + 2 retries, then silence');
    const rec = h2.records.find((r) => r.client.port === c.port);
    assert.equal(rec?.result, 'timeout');
  } finally {
    c.close();
    await h2.close();
  }
});

test('block numbers roll over past 65535 (blksize 8, 70,000 blocks)', async () => {
  const data = randomBytes(8 * 70_000 + 3);
  await writeFile(join(h.root, 'roll.bin'), data);
  const r = await rawFetch(h.port, 'roll.bin', { blksize: 8, windowsize: 64 });
  assert.equal(sha256(r.data), sha256(data));
});

test('netascii: LF -> CR LF, CR -> CR NUL', async () => {
  const c = await RawClient.open();
  c.send({ op: Op.Rrq, filename: 'text.txt', mode: 'NetASCII', options: [] }, h.port);
  const d = await c.recv();
  assert.ok(d && d.pkt.op === Op.Data);
  assert.equal(d.pkt.op === Op.Data && d.pkt.data.toString('latin1'), 'line one\r\nline two\r\0\r\nend\r\n');
  c.send({ op: Op.Ack, block: 1 }, d.from.port);
  c.close();
});

test('refusals: WRQ, unknown mode, malformed, stray ACK, missing file, traversal', async () => {
  const c = await RawClient.open();
  const ask = async (p: Parameters<RawClient['send']>[0]) => {
    c.send(p, h.port);
    const r = await c.recv();
    assert.ok(r && r.pkt.op === Op.Error, 'an ERROR answer');
    return r.pkt.op === Op.Error ? r.pkt : null;
  };
  const rrq = (filename: string): TftpPacket => ({ op: Op.Rrq, filename, mode: 'octet', options: [] });
  assert.equal((await ask({ op: Op.Wrq, filename: 'small.bin', mode: 'octet', options: [] }))?.code, ErrorCode.AccessViolation);
  assert.equal((await ask({ op: Op.Rrq, filename: 'small.bin', mode: 'mail', options: [] }))?.code, ErrorCode.IllegalOperation);
  assert.equal((await ask(Buffer.from([0, 1, 0x41])))?.code, ErrorCode.IllegalOperation);
  assert.equal((await ask(Buffer.from([0, 42])))?.code, ErrorCode.IllegalOperation);
  assert.equal((await ask({ op: Op.Ack, block: 1 }))?.code, ErrorCode.IllegalOperation);
  assert.equal((await ask(rrq('nope.bin')))?.code, ErrorCode.FileNotFound);
  assert.equal((await ask(rrq('sub')))?.code, ErrorCode.FileNotFound);
  assert.equal((await ask(rrq('../outside/secret')))?.code, ErrorCode.AccessViolation);
  assert.equal((await ask(rrq('sub/../../outside/secret')))?.code, ErrorCode.AccessViolation);
  assert.equal((await ask(rrq('/etc/passwd')))?.code, ErrorCode.FileNotFound, '/etc/passwd is looked up under the root');
  assert.equal((await ask(rrq('link-out')))?.code, ErrorCode.AccessViolation);
  assert.equal((await ask(rrq('a'.repeat(300))))?.code, ErrorCode.AccessViolation);
  assert.equal((await ask(rrq('a\x01b')))?.code, ErrorCode.AccessViolation);
  // A NUL inside the name ends the name on the wire: "small.bin\0../x" asks for small.bin with mode "../x".
  assert.equal((await ask(Buffer.from('\x00\x01small.bin\x00../etc\x00', 'latin1')))?.code, ErrorCode.IllegalOperation);
  c.close();
  const ok = await rawFetch(h.port, 'link-in');
  assert.equal(sha256(ok.data), h.sha['small.bin'], 'a symlink inside the root is followed');
});

test('a retransmitted RRQ from the same port does not start a second transfer', async () => {
  const c = await RawClient.open();
  const rrq: TftpPacket = { op: Op.Rrq, filename: 'small.bin', mode: 'octet', options: [{ name: 'blksize', value: '512' }] };
  c.send(rrq, h.port);
  c.send(rrq, h.port);
  const got = await c.drain(150);
  assert.equal(got.filter((g) => g.pkt.op === Op.Oack).length, 1);
  c.send({ op: Op.Error, code: 0, message: 'bye' }, got[0]!.from.port);
  c.close();
});

test('every transfer is recorded with client, file, bytes, ms, result', () => {
  const ok = h.records.find((r) => r.file === 'exact512.bin');
  assert.ok(ok);
  assert.equal(ok.result, 'ok');
  assert.equal(ok.bytes, 2048);
  assert.equal(ok.client.address, '127.0.0.1');
  assert.ok(ok.ms >= 0);
  const refused = h.records.find((r) => r.file === '../outside/secret');
  assert.equal(refused?.result, 'refused');
  assert.equal(refused?.errorCode, ErrorCode.AccessViolation);
});

test('per-client cap: requests beyond it are dropped (the client retries later)', async () => {
  const h2 = await startHarness({ maxPerClient: 1, timeoutMs: 5000 });
  try {
    const a = await RawClient.open();
    const b = await RawClient.open();
    a.send({ op: Op.Rrq, filename: 'small.bin', mode: 'octet', options: [] }, h2.port);
    assert.ok(await a.recv());
    b.send({ op: Op.Rrq, filename: 'small.bin', mode: 'octet', options: [] }, h2.port);
    assert.equal(await b.recv(300), null);
    assert.equal(h2.server.dropped, 1);
    a.close();
    b.close();
  } finally {
    await h2.close();
  }
});
