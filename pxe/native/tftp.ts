/**
 * The native TFTP data path (tftp.c, built by scripts/build.sh with node-gyp): read transfers run
 * to completion on native threads, one result per transfer. Optional: tftpNative() returns null
 * when the addon has not been built, and the TFTP server then runs transfers in JavaScript.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One transfer as the addon takes it; exactly one of `data` and `fd` (the addon closes the fd). */
export interface NativeJob {
  id: number;
  /** Local IPv4 address the transfer's socket binds (port chosen by the kernel: the TID). */
  host: string;
  address: string;
  port: number;
  blksize: number;
  windowsize: number;
  oack: Uint8Array | null;
  data?: Uint8Array;
  fd?: number;
  /** First retransmission timeout, before any round trip was measured. */
  timeoutMs: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Silence after which the transfer is abandoned. */
  giveUpMs: number;
}

export interface NativeResult {
  outcome: 'ok' | 'timeout' | 'peer-error' | 'read-error' | 'aborted';
  bytes: number;
  blocks: number;
  dataPackets: number;
  retransmits: number;
  ignoredAcks: number;
  strangers: number;
  error?: string;
}

declare const engineBrand: unique symbol;
export type NativeEngineHandle = { readonly [engineBrand]: true };

export interface TftpNative {
  /** Starts `threads` workers; onDone runs on this thread once per transfer. */
  create(threads: number, onDone: (id: number, r: NativeResult) => void): NativeEngineHandle;
  /** Hands a transfer to the least loaded worker; returns that worker's index (for abort). */
  start(engine: NativeEngineHandle, job: NativeJob): number;
  abort(engine: NativeEngineHandle, worker: number, id: number, reason: string): void;
  /** Aborts what still runs and joins the workers; pending results are still delivered. */
  close(engine: NativeEngineHandle): void;
}

const ADDON = 'build/Release/netroot_tftp.node';

let cached: TftpNative | null | undefined;

export function tftpNative(): TftpNative | null {
  if (cached !== undefined) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  // Compiled to dist/pxe/native/tftp.js; the addon stays in the source tree pxe/native/build.
  const found = [join(here, ADDON), join(here, '../../../pxe/native', ADDON)].find((p) => existsSync(p));
  cached = found ? (createRequire(import.meta.url)(found) as TftpNative) : null;
  return cached;
}
