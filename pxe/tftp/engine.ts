/**
 * Starts one read transfer from a plain-data job: its own socket (its TID) bound on `host`, a
 * block source, a ReadTransfer. Used on the main thread and inside worker threads alike, so a
 * transfer behaves the same wherever it runs.
 */
import { createSocket, type Socket } from 'node:dgram';
import { closeSync, createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { TftpClient } from './files.js';
import { NetasciiEncoder } from './netascii.js';
import { BufferSource, StreamSource, type BlockSource } from './source.js';
import { ReadTransfer, type TransferResult } from './transfer.js';

/** What a transfer reads: bytes (already netascii-converted if needed), an open fd, or a stream. */
export type JobSource = { kind: 'data'; data: Uint8Array } | { kind: 'fd'; fd: number; netascii: boolean } | { kind: 'stream'; stream: Readable; netascii: boolean };

export interface TransferJob {
  host: string;
  peer: TftpClient;
  blksize: number;
  windowsize: number;
  oack: Uint8Array | null;
  /** First retransmission timeout, before a round trip was measured. */
  timeoutMs: number;
  /** Bounds of the measured timeout (rto.ts). */
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Silence after which the transfer is abandoned (giveUpMs in rto.ts). */
  giveUpMs: number;
}

/** Large reads: one syscall (and one fresh buffer) per 1 MiB instead of per block. */
const READ_CHUNK = 1 << 20;

/**
 * dgram resolves the address of every send through dns.lookup, which for an IP literal still
 * costs a nextTick per packet; a transfer only ever sends to IP literals.
 */
function ipLookup(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, 4);
}

export async function bindTransferSocket(host: string): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', lookup: ipLookup as never });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

function openSource(src: JobSource, blksize: number): BlockSource {
  if (src.kind === 'data') {
    const data = Buffer.from(src.data.buffer, src.data.byteOffset, src.data.byteLength);
    return new BufferSource(data, blksize);
  }
  let stream: Readable;
  if (src.kind === 'fd') {
    try {
      stream = createReadStream('', { fd: src.fd, highWaterMark: READ_CHUNK });
    } catch (e) {
      closeSync(src.fd);
      throw e;
    }
  } else stream = src.stream;
  return new StreamSource(src.netascii ? stream.pipe(new NetasciiEncoder()) : stream, blksize);
}

/** Runs a transfer; `onStart` receives the transfer (for abort) once it is sending. */
export async function runTransfer(job: TransferJob, src: JobSource, onStart?: (t: ReadTransfer) => void): Promise<TransferResult> {
  let socket: Socket;
  try {
    socket = await bindTransferSocket(job.host);
  } catch (e) {
    if (src.kind === 'fd') closeSync(src.fd);
    else if (src.kind === 'stream') src.stream.destroy();
    throw e;
  }
  let source: BlockSource;
  try {
    source = openSource(src, job.blksize);
  } catch (e) {
    socket.close();
    throw e;
  }
  const t = new ReadTransfer({
    socket,
    peer: job.peer,
    source,
    windowsize: job.windowsize,
    oack: job.oack ? Buffer.from(job.oack.buffer, job.oack.byteOffset, job.oack.byteLength) : null,
    timeoutMs: job.timeoutMs,
    minTimeoutMs: job.minTimeoutMs,
    maxTimeoutMs: job.maxTimeoutMs,
    giveUpMs: job.giveUpMs,
  });
  onStart?.(t);
  t.start();
  return t.done;
}
