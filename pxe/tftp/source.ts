/**
 * Blocks of a file being sent, kept from the oldest unacknowledged block to the newest read, so a
 * window can be sent again after a timeout without reading the file twice.
 */
import type { Readable } from 'node:stream';

export interface BlockSource {
  /** Block i (1-based) when it is already available. */
  get(i: number): Buffer | undefined;
  /** Reads until block i is available or the file has ended. */
  fill(i: number): Promise<void>;
  /** Number of the final block (shorter than blksize, possibly empty) once known. */
  readonly last: number | null;
  /** Blocks up to n were acknowledged: they are not needed any more. */
  release(n: number): void;
  close(): void;
}

/** Bytes in memory: every block is a view, nothing is copied. */
export class BufferSource implements BlockSource {
  readonly last: number;
  constructor(
    private readonly data: Buffer,
    private readonly blksize: number,
  ) {
    // A file that is a multiple of blksize ends with an empty block (RFC 1350 section 6).
    this.last = Math.floor(data.length / blksize) + 1;
  }
  get(i: number): Buffer | undefined {
    if (i < 1 || i > this.last) return undefined;
    return this.data.subarray((i - 1) * this.blksize, i * this.blksize);
  }
  async fill(): Promise<void> {}
  release(): void {}
  close(): void {}
}

/** A Readable cut into blocks as it arrives. */
export class StreamSource implements BlockSource {
  last: number | null = null;
  private readonly blocks: Buffer[] = [];
  /** Block number of blocks[0]. */
  private base = 1;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private readonly it: AsyncIterator<Buffer>;
  private filling: Promise<void> | null = null;

  constructor(
    private readonly stream: Readable,
    private readonly blksize: number,
  ) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  get(i: number): Buffer | undefined {
    return i >= this.base ? this.blocks[i - this.base] : undefined;
  }

  private get produced(): number {
    return this.base + this.blocks.length - 1;
  }

  async fill(i: number): Promise<void> {
    while (this.produced < i && this.last === null) {
      if (!this.filling) this.filling = this.readChunk().finally(() => (this.filling = null));
      await this.filling;
    }
  }

  private async readChunk(): Promise<void> {
    const r = await this.it.next();
    if (r.done) {
      this.blocks.push(this.take(this.pendingLen));
      this.last = this.produced;
      return;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    while (this.pendingLen >= this.blksize) this.blocks.push(this.take(this.blksize));
  }

  /** Cuts n bytes off the front of the pending chunks (a view when one chunk holds them). */
  private take(n: number): Buffer {
    const first = this.pending[0];
    let out: Buffer;
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let o = 0;
      while (o < n) {
        const c = this.pending[0]!;
        const k = Math.min(c.length, n - o);
        c.copy(out, o, 0, k);
        o += k;
        if (k === c.length) this.pending.shift();
        else this.pending[0] = c.subarray(k);
      }
    }
    this.pendingLen -= n;
    return out;
  }

  release(n: number): void {
    while (this.base <= n && this.blocks.length > 0) {
      this.blocks.shift();
      this.base++;
    }
  }

  close(): void {
    this.stream.destroy();
  }
}
