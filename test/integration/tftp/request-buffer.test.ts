/**
 * The request socket's receive buffer (tftp.recvBufferBytes): what the kernel gave it, read with
 * `ss -m` as an admin would, and a burst of requests larger than the kernel's default buffer
 * holds, sent at once from many source ports, every one answered.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { run } from '../../helpers/proc.js';
import { startHarness, type Harness } from './harness.js';

const open: Harness[] = [];
after(async () => {
  for (const h of open) await h.close();
});

/** The rb (receive buffer) figure `ss -m` shows for the UDP socket on 127.0.0.1:port. */
async function receiveBuffer(port: number): Promise<number> {
  const r = await run('ss', ['-u', '-l', '-n', '-m', 'sport', '=', `:${port}`]);
  const m = /rb(\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return Number(m[1]);
}

test('tftp.recvBufferBytes: the request socket gets it (the kernel shows twice the request)', async () => {
  const h = await startHarness({ recvBufferBytes: 2 * 1024 * 1024 });
  open.push(h);
  assert.equal(await receiveBuffer(h.port), 4 * 1024 * 1024);
});

test('recvBufferBytes 0: the kernel default', async () => {
  const h = await startHarness({ recvBufferBytes: 0 });
  open.push(h);
  const def = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));
  assert.equal(await receiveBuffer(h.port), def);
});

/** Sends n RRQs from n sockets in one synchronous burst; resolves with how many got an OACK. */
async function burst(h: Harness, n: number): Promise<number> {
  const sockets = await Promise.all(
    Array.from({ length: n }, () => new Promise<dgram.Socket>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => resolve(s));
    })),
  );
  let answered = 0;
  // Done when every request has its answer, or 3 s after the last answer came (the rest were dropped).
  let settle: NodeJS.Timeout | undefined;
  const all = new Promise<void>((resolve) => {
    const quiet = () => {
      clearTimeout(settle);
      settle = setTimeout(resolve, 3000);
    };
    quiet();
    for (const s of sockets) {
      s.once('message', (msg) => {
        if (msg.readUInt16BE(0) === 6) answered++; // OACK
        s.close();
        if (answered === n) resolve();
        else quiet();
      });
    }
  });
  const rrq = Buffer.from('\0\u00011m.bin\0octet\0blksize\0' + '1468\0tsize\0' + '0\0', 'latin1');
  // Sent before the server's event loop can read any: one synchronous burst.
  for (const s of sockets) s.send(rrq, h.port, '127.0.0.1');
  await all;
  clearTimeout(settle);
  for (const s of sockets) {
    try {
      s.close();
    } catch {
      // already closed after its answer
    }
  }
  return answered;
}

// 1,500 RRQs (each takes about 1 KiB of receive buffer in the kernel's accounting) reach the
// socket before the server reads any (it runs in this process, and the burst is synchronous).
const N = 1500;

test('a burst of 1,500 requests at once: with the kernel default most are dropped', async () => {
  const h = await startHarness({ recvBufferBytes: 0, maxTransfers: N, maxPerClient: N });
  open.push(h);
  const answered = await burst(h, N);
  assert.ok(answered < N / 2, `${answered} of ${N} answered: the burst did not overflow the default buffer, so it proves nothing`);
});

test('a burst of 1,500 requests at once: with 4 MiB every one is answered', async () => {
  const h = await startHarness({ recvBufferBytes: 4 * 1024 * 1024, maxTransfers: N, maxPerClient: N });
  open.push(h);
  const answered = await burst(h, N);
  assert.equal(answered, N, `${N - answered} of ${N} requests got no answer`);
});
