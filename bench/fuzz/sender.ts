/**
 * The fuzz campaign's sender: a process started inside the client namespace that sends `count`
 * datagrams from mutate.ts at `rate` a second, from several source addresses (a hostile network
 * has many hosts, and TFTP caps transfers per client address).
 *
 *   node dist/bench/fuzz/sender.js '<SenderOptions as JSON>'
 *
 * Prints READY when its sockets are bound, PROGRESS {...} every second and DONE {...} at the end
 * (also when stopped with SIGTERM or SIGINT). Throttling: every millisecond tick sends what the
 * schedule (rate x elapsed) says is due, at most 5 ms worth at once, so a late tick catches up and the
 * kernel's queue stays short; when the machine cannot keep up, the achieved rate says so.
 * Replies are read: TFTP transfers the server starts (OACK/DATA from a new port) become targets
 * for the live datagrams, and their last block is ACKed now and then so some transfers move on.
 */
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGenerator, createRng, liveDatagram, stray, type Target } from './mutate.js';

export interface SenderOptions {
  /** The server's address (unicast DHCP, TFTP). */
  server: string;
  /** Source addresses (configured on the client's interface). */
  sources: string[];
  /** TFTP sockets per source address (each one can hold a transfer). */
  socketsPerSource: number;
  count: number;
  rate: number;
  seed: number;
  protocols: ('dhcp' | 'tftp')[];
  dhcpFixtures: string;
  tftpFixtures: string;
  /** Names the server really serves. */
  files: string[];
  dhcpPort?: number;
  tftpPort?: number;
}

export interface SenderStats {
  sent: number;
  elapsedMs: number;
  rate: number;
  byKind: Record<string, number>;
  byTarget: Record<string, number>;
  sendErrors: Record<string, number>;
  replies: { dhcp: number; tftp: Record<string, number> };
  tftpDataBytes: number;
  /** Transfer ports the server opened for the sender, and datagrams sent to them. */
  livePorts: number;
  liveSent: number;
  /** Ticks skipped because a socket's send queue was long (the kernel pushed back). */
  queueWaits: number;
  /** The sender's own CPU time (user + system), seconds. */
  cpuSeconds: number;
  stopped: boolean;
}

interface Live {
  socket: number;
  port: number;
  lastBlock: number;
  seen: number;
}

const bump = (t: Record<string, number>, k: string, n = 1) => {
  t[k] = (t[k] ?? 0) + n;
};

function loadSeeds(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

async function bind(address: string, broadcast: boolean): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => {
      s.off('error', reject);
      resolve();
    });
  });
  if (broadcast) s.setBroadcast(true);
  return s;
}

async function send(o: SenderOptions, out: (line: string) => void): Promise<SenderStats> {
  const dhcpPort = o.dhcpPort ?? 67;
  const tftpPort = o.tftpPort ?? 69;
  const rng = createRng(o.seed);
  const gen = createGenerator({ dhcp: loadSeeds(o.dhcpFixtures), tftp: loadSeeds(o.tftpFixtures), files: o.files, server: o.server }, rng, o.protocols);
  const stats: SenderStats = {
    sent: 0, elapsedMs: 0, rate: 0, byKind: {}, byTarget: {}, sendErrors: {}, replies: { dhcp: 0, tftp: {} },
    tftpDataBytes: 0, livePorts: 0, liveSent: 0, queueWaits: 0, cpuSeconds: 0, stopped: false,
  };
  const dhcp: Socket[] = [];
  const tftp: Socket[] = [];
  const live = new Map<string, Live>();
  for (const a of o.sources) {
    const d = await bind(a, true);
    d.on('message', () => stats.replies.dhcp++);
    dhcp.push(d);
    for (let i = 0; i < o.socketsPerSource; i++) {
      const s = await bind(a, false);
      const index = tftp.length;
      s.on('message', (msg: Buffer, from: RemoteInfo) => onTftpReply(index, msg, from));
      tftp.push(s);
    }
  }
  for (const s of [...dhcp, ...tftp]) s.on('error', (e: NodeJS.ErrnoException) => bump(stats.sendErrors, e.code ?? 'error'));

  function onTftpReply(socket: number, msg: Buffer, from: RemoteInfo) {
    const op = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
    bump(stats.replies.tftp, ({ 3: 'DATA', 5: 'ERROR', 6: 'OACK' } as Record<number, string>)[op] ?? 'other');
    if (from.port === tftpPort) return;
    const key = `${socket}:${from.port}`;
    if (op === 5) {
      live.delete(key);
      return;
    }
    let t = live.get(key);
    if (!t) {
      stats.livePorts++;
      t = { socket, port: from.port, lastBlock: 0, seen: 0 };
      if (live.size >= 256) live.delete(live.keys().next().value!);
      live.set(key, t);
    }
    t.seen = Date.now();
    if (op === 3 && msg.length >= 4) {
      t.lastBlock = msg.readUInt16BE(2);
      stats.tftpDataBytes += msg.length - 4;
    }
  }

  const sentCb = (err: Error | null) => {
    if (err) bump(stats.sendErrors, (err as NodeJS.ErrnoException).code ?? 'error');
  };
  const emit = (s: Socket, buf: Buffer, port: number, address: string, kind: string, target: Target) => {
    s.send(buf, port, address, sentCb);
    stats.sent++;
    bump(stats.byKind, kind);
    bump(stats.byTarget, target);
  };
  const sendOne = () => {
    const d = gen.next();
    if (d.target === 'dhcp-broadcast') return emit(rng.pick(dhcp), d.buf, dhcpPort, '255.255.255.255', d.kind, d.target);
    if (d.target === 'dhcp-unicast') return emit(rng.pick(dhcp), d.buf, dhcpPort, o.server, d.kind, d.target);
    if (d.target === 'tftp-request') return emit(rng.pick(tftp), d.buf, tftpPort, o.server, d.kind, d.target);
    // tftp-live: a port the server opened for us, or (none known) a stray packet to port 69.
    if (live.size === 0) return emit(rng.pick(tftp), stray(rng), tftpPort, o.server, 'tftp.stray', 'tftp-request');
    const values = [...live.values()];
    const t = values[rng.int(values.length)]!;
    const l = liveDatagram(rng, t);
    const from = l.otherSocket ? rng.pick(tftp) : tftp[t.socket]!;
    stats.liveSent++;
    emit(from, l.buf, t.port, o.server, l.kind, 'tftp-live');
  };

  let stopping = false;
  const stop = () => {
    stopping = true;
    stats.stopped = true;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  out('READY');
  const t0 = performance.now();
  const burst = Math.max(1, Math.ceil(o.rate / 200));
  const progress = setInterval(() => {
    const now = Date.now();
    for (const [k, t] of live) if (now - t.seen > 15_000) live.delete(k);
    out(`PROGRESS ${JSON.stringify({ sent: stats.sent, elapsedMs: Math.round(performance.now() - t0), livePorts: live.size })}`);
  }, 1000);
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (stopping || stats.sent >= o.count) return resolve();
      const due = Math.min(o.count, Math.floor((o.rate * (performance.now() - t0)) / 1000)) - stats.sent;
      // The kernel pushes back (veth queue full): wait rather than pile sends up in user space.
      if (due > 0 && [...dhcp, ...tftp].some((s) => s.getSendQueueCount() > 64)) stats.queueWaits++;
      else for (let i = Math.min(due, burst); i > 0; i--) sendOne();
      setTimeout(tick, 1);
    };
    tick();
  });
  stats.elapsedMs = Math.round(performance.now() - t0);
  stats.rate = Math.round((stats.sent * 1000) / Math.max(1, stats.elapsedMs));
  const cpu = process.cpuUsage();
  stats.cpuSeconds = Math.round((cpu.user + cpu.system) / 1e5) / 10;
  clearInterval(progress);
  // Let queued sends leave and late replies arrive before closing.
  await new Promise((r) => setTimeout(r, 500));
  for (const s of [...dhcp, ...tftp]) s.close();
  return stats;
}

// An entry point only (the campaign imports its types, never the module).
const opts = JSON.parse(process.argv[2] ?? '{}') as SenderOptions;
send(opts, (l) => process.stdout.write(`${l}\n`)).then(
  (s) => process.stdout.write(`DONE ${JSON.stringify(s)}\n`),
  (e: unknown) => {
    process.stderr.write(`sender failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
