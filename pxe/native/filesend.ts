/**
 * File bodies sent by native sender threads: the netroot_filesend addon (filesend.c) behind a
 * promise. The senders move the bytes with sendfile(2) while JavaScript does other work; one
 * completion comes back per transfer.
 *
 * The addon is optional: fileSender() returns null when it is not built (or cannot load), and the
 * caller streams the file instead (slower, same bytes).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, constants } from 'node:os';

interface Addon {
  init(onDone: (id: number, errno: number, sent: number) => void, threads: number, chunkBytes: number): void;
  start(sockFd: number, fileFd: number, offset: number, length: number): number;
  cancel(id: number): void;
}

export interface Transfer {
  /** How it ended; rejects only if it could not start. */
  done: Promise<TransferEnd>;
  /** Ends it early (the client went away); done then resolves with what was sent. */
  cancel(): void;
}

export interface TransferEnd {
  sent: number;
  /**
   * null: every byte was handed to the socket. Else why not: EPIPE or ECONNRESET (the client went
   * away), ECANCELED (cancel()), EIO (the file is shorter than when the transfer began).
   */
  error: string | null;
}

export interface FileSender {
  /**
   * Sends length bytes of fileFd from offset to sockFd, a connected non-blocking socket nothing
   * else writes to until done resolves. Both fds are duplicated at once: the caller may close
   * its own right after.
   */
  send(sockFd: number, fileFd: number, offset: number, length: number): Transfer;
  /** Transfers started and not yet ended (each holds two descriptors). */
  inFlight(): number;
}

const ADDON = 'build/Release/netroot_filesend.node';
/** Per wake-up of a sender; a connection waits for the others after this much (as nginx's sendfile_max_chunk). */
const CHUNK_BYTES = 2 << 20;
/** One per core, at most 4: a sender thread also does the kernel's TCP work for what it sends. */
const DEFAULT_THREADS = Math.min(4, availableParallelism());

let loaded: FileSender | null | undefined;
let loadError: string | null = null;

/**
 * The process's sender, started on first use with `threads` sender threads (later calls get the
 * same one), or null when the addon is not there (fileSenderProblem() says why).
 */
export function fileSender(threads = DEFAULT_THREADS): FileSender | null {
  if (loaded !== undefined) return loaded;
  const here = dirname(fileURLToPath(import.meta.url));
  // Compiled to dist/pxe/native/filesend.js; the addon stays in the source tree pxe/native/build.
  const opened = openFileSender([join(here, ADDON), join(here, '../../../pxe/native', ADDON)], threads);
  loadError = typeof opened === 'string' ? opened : null;
  return (loaded = typeof opened === 'string' ? null : opened);
}

/** Why fileSender() returned null, for the log. */
export function fileSenderProblem(): string | null {
  return loadError;
}

/** Loads the addon from the first path that exists and starts its threads; a string says why not. */
export function openFileSender(candidates: string[], threads: number): FileSender | string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) return `netroot_filesend addon not built (looked in ${candidates.join(', ')}); run npm run build`;
  let addon: Addon;
  const waiting = new Map<number, (end: TransferEnd) => void>();
  try {
    addon = createRequire(import.meta.url)(found) as Addon;
    addon.init(
      (id, errno, sent) => {
        const resolve = waiting.get(id);
        waiting.delete(id);
        resolve?.({ sent, error: errno === 0 ? null : errnoName(errno) });
      },
      threads,
      CHUNK_BYTES,
    );
  } catch (e) {
    return `netroot_filesend addon did not load from ${found}: ${(e as Error).message}`;
  }
  return {
    send(sockFd, fileFd, offset, length) {
      let id: number;
      try {
        id = addon.start(sockFd, fileFd, offset, length);
      } catch (e) {
        return { done: Promise.reject(e as Error), cancel() {} };
      }
      const done = new Promise<TransferEnd>((resolve) => waiting.set(id, resolve));
      return { done, cancel: () => waiting.has(id) && addon.cancel(id) };
    },
    inFlight: () => waiting.size,
  };
}

const errnoName = (n: number) => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;
