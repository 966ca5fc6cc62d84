import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode as decodeDhcp, packetMac, messageType } from '../../pxe/dhcp/packet.js';
import { decode as decodeTftp } from '../../pxe/tftp/codec.js';
import { Op } from '../../pxe/tftp/constants.js';
import { createGenerator, createRng, DHCP_KINDS, DHCP_MUTATORS, liveDatagram, optionSpans, TFTP_KINDS, type Seeds } from './mutate.js';

const fixtures = (dir: string) => readdirSync(join(process.cwd(), 'test/fixtures', dir)).filter((f) => f.endsWith('.bin')).sort().map((f) => readFileSync(join(process.cwd(), 'test/fixtures', dir, f)));
const seeds: Seeds = { dhcp: fixtures('dhcp'), tftp: fixtures('tftp'), files: ['undionly.kpxe', 'pxelinux.cfg/01-02-66-00-00-00-0b'], server: '10.66.0.1' };

test('the same seed gives the same datagrams; another seed others', () => {
  const take = (seed: number) => {
    const g = createGenerator(seeds, createRng(seed));
    return Array.from({ length: 500 }, () => g.next()).map((d) => `${d.kind} ${d.target} ${d.buf.toString('hex')}`);
  };
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
});

test('20,000 datagrams: every mutation, about half DHCP (half of it broadcast), lengths from 0 past the MTU', () => {
  const g = createGenerator(seeds, createRng(1));
  const kinds = new Map<string, number>();
  const targets = new Map<string, number>();
  let short = 0;
  let long = 0;
  for (let i = 0; i < 20_000; i++) {
    const d = g.next();
    kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
    targets.set(d.target, (targets.get(d.target) ?? 0) + 1);
    if (d.target !== 'tftp-live' && d.buf.length === 0) short++;
    if (d.buf.length > 1500) long++;
  }
  for (const k of [...DHCP_KINDS, ...TFTP_KINDS]) assert.ok((kinds.get(k) ?? 0) > 0, `${k} never made`);
  const dhcp = (targets.get('dhcp-broadcast') ?? 0) + (targets.get('dhcp-unicast') ?? 0);
  assert.ok(dhcp > 9_500 && dhcp < 10_500, `${dhcp} DHCP`);
  assert.ok(Math.abs((targets.get('dhcp-broadcast') ?? 0) - (targets.get('dhcp-unicast') ?? 0)) < 500);
  assert.ok(short > 0, 'some empty datagrams');
  assert.ok(long > 100, 'some datagrams past 1500 bytes');
});

test('forged DHCP requests decode, from random locally administered MACs', () => {
  const r = createRng(3);
  const macs = new Set<string>();
  let decoded = 0;
  for (let i = 0; i < 200; i++) {
    const p = decodeDhcp(DHCP_MUTATORS.forged!(r, seeds));
    decoded++;
    const mac = packetMac(p)!;
    assert.match(mac, /^[0-9a-f][26ae]:/);
    macs.add(mac);
    assert.ok([1, 3, 4, 7, 8].includes(messageType(p)!));
  }
  assert.equal(decoded, 200);
  assert.equal(macs.size, 200);
});

test('mutations of captures: the codec refuses many, and never with anything but its own error', () => {
  const r = createRng(5);
  let refused = 0;
  for (const [name, m] of Object.entries(DHCP_MUTATORS)) {
    for (let i = 0; i < 200; i++) {
      try {
        decodeDhcp(m(r, seeds));
      } catch (e) {
        assert.equal((e as Error).name, 'DhcpDecodeError', `${name}: ${(e as Error).stack}`);
        refused++;
      }
    }
  }
  assert.ok(refused > 500, `${refused} refused`);
});

test('optionSpans walks a capture\'s options', () => {
  const spans = optionSpans(seeds.dhcp[0]!);
  assert.ok(spans.some((s) => s.code === 53 && s.len === 1));
  assert.ok(spans.every((s) => s.at >= 240));
});

test('traversal names go out as RRQs; live ACKs name the last block', () => {
  const g = createGenerator(seeds, createRng(9));
  let traversal = 0;
  for (let i = 0; i < 5000; i++) {
    const d = g.next();
    if (d.kind !== 'tftp.traversal') continue;
    // The empty name and requests past RFC 2347's 512 bytes are the codec's to refuse.
    try {
      assert.equal(decodeTftp(d.buf).op, Op.Rrq);
      traversal++;
    } catch (e) {
      assert.equal((e as Error).name, 'TftpDecodeError');
    }
  }
  assert.ok(traversal > 50);
  const r = createRng(2);
  for (let i = 0; i < 200; i++) {
    const l = liveDatagram(r, { lastBlock: 4242 });
    if (l.kind === 'tftp.live.ack') assert.deepEqual(decodeTftp(l.buf), { op: Op.Ack, block: 4242 });
  }
});
