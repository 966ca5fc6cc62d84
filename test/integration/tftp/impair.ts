/**
 * A lossy UDP link in user space, for kernels without sch_netem (this CI kernel has none): a
 * TID-preserving relay between one TFTP client and the server that drops, duplicates and delays
 * (reorders) packets in both directions, from a seeded generator so runs are repeatable.
 *
 *   client -> relay:front ---(up socket)---> server:69
 *   server:T -> up socket -> relay:side[T] -> client      (one relay port per server TID)
 *   client -> relay:side[T] -> up socket -> server:T
 */
import { createSocket, type Socket } from 'node:dgram';

export interface Impairment {
  loss: number;
  duplicate: number;
  /** Probability that a packet is held back `delayMs` (later packets overtake it). */
  reorder: number;
  delayMs: number;
  seed: number;
}

export interface ImpairStats {
  forwarded: number;
  dropped: number;
  duplicated: number;
  delayed: number;
}

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

export class ImpairedLink {
  readonly stats: ImpairStats = { forwarded: 0, dropped: 0, duplicated: 0, delayed: 0 };
  private rng: number;
  private client: { port: number } | null = null;
  private up: Socket | null = null;
  private readonly sides = new Map<number, Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly front: Socket,
    private readonly serverPort: number,
    private readonly imp: Impairment,
  ) {
    this.rng = imp.seed >>> 0 || 1;
    front.on('message', (msg, r) => void this.fromClient(msg, r.port, null));
  }

  static async open(serverPort: number, imp: Impairment): Promise<ImpairedLink> {
    return new ImpairedLink(await bound(), serverPort, imp);
  }

  get port(): number {
    return this.front.address().port;
  }

  /** xorshift32: deterministic for a seed. */
  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 0x100000000;
  }

  private impair(send: () => void): void {
    if (this.random() < this.imp.loss) {
      this.stats.dropped++;
      return;
    }
    const copies = this.random() < this.imp.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      if (this.random() < this.imp.reorder) {
        this.stats.delayed++;
        const t = setTimeout(() => {
          this.timers.delete(t);
          send();
        }, this.imp.delayMs);
        this.timers.add(t);
      } else {
        send();
      }
      this.stats.forwarded++;
    }
  }

  private async fromClient(msg: Buffer, clientPort: number, serverTid: number | null): Promise<void> {
    if (!this.client) this.client = { port: clientPort };
    if (!this.up) {
      this.up = await bound();
      this.up.on('message', (m, r) => void this.fromServer(m, r.port));
    }
    const up = this.up;
    const dest = serverTid ?? this.serverPort;
    this.impair(() => up.send(msg, dest, '127.0.0.1'));
  }

  private async fromServer(msg: Buffer, tid: number): Promise<void> {
    let side = this.sides.get(tid);
    if (!side) {
      side = await bound();
      this.sides.set(tid, side);
      side.on('message', (m, r) => void this.fromClient(m, r.port, tid));
    }
    const s = side;
    const c = this.client!;
    this.impair(() => s.send(msg, c.port, '127.0.0.1'));
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.front.close();
    this.up?.close();
    for (const s of this.sides.values()) s.close();
  }
}
