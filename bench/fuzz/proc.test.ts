import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findProcess, parseCpuSeconds, parseRssKiB, parseUdp, parseUdpDrops, sample, udpCounters } from './proc.js';

test('VmRSS from /proc/<pid>/status', () => {
  assert.equal(parseRssKiB('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nThreads: 11\n'), 123456);
  assert.equal(parseRssKiB('Name:\tkthreadd\n'), null);
});

test('CPU seconds from /proc/<pid>/stat, whatever the command name holds', () => {
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const stat = '4242 (node ) (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 12345 1000000 2500';
  assert.equal(parseCpuSeconds(stat), 3);
});

test('UDP counters from /proc/net/snmp', () => {
  const snmp = 'Ip: Forwarding\nIp: 1\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 10 2 3 4 3 0\nUdpLite: InDatagrams\nUdpLite: 0\n';
  assert.deepEqual(parseUdp(snmp), { InDatagrams: 10, NoPorts: 2, InErrors: 3, OutDatagrams: 4, RcvbufErrors: 3, SndbufErrors: 0 });
});

test('drops per local port from /proc/net/udp', () => {
  const udp = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '  1: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 120',
    '  2: 0100420A:0045 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3 2 0000000000000000 7',
    '  3: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0000000000000000 3',
    '',
  ].join('\n');
  assert.deepEqual(parseUdpDrops(udp), { 67: 123, 69: 7 });
});

test('this process: a sample, its namespace\'s UDP counters, found by its command line', () => {
  const s = sample(process.pid, 5)!;
  assert.ok(s.rssKiB > 1000 && s.cpuSeconds >= 0 && s.t === 5 && s.threads >= 1 && s.fds >= 3, JSON.stringify(s));
  assert.ok('InDatagrams' in udpCounters(process.pid));
  assert.equal(findProcess(process.pid, /node/), process.pid);
  assert.equal(findProcess(process.pid, /^no such command line$/), null);
  assert.equal(sample(2 ** 22 + 1, 0), null);
});
