/** What the TFTP server asks its file handler, and the error a handler throws to refuse. */
import type { Readable } from 'node:stream';
import { ErrorCode } from './constants.js';

export interface TftpClient {
  address: string;
  port: number;
}

/**
 * A file to send: a stream (opened only when the transfer starts) or bytes already in memory
 * (generated files, cached boot loaders). `size` is the octet count announced as tsize.
 * A stream file may also offer `openFd`: an fd open for reading at offset 0, which the transfer
 * reads and closes; that lets the transfer run on a worker thread (fds are per process).
 */
export type TftpFile = { size: number; open(): Readable; openFd?(): number } | { size: number; data: Buffer };

/**
 * Resolves a requested file name for a client. null = file not found (TFTP error 1). Throw a
 * TftpError to answer another TFTP error (e.g. access violation); any other throw is logged and
 * answered as error 0.
 */
export type FileHandler = (path: string, client: TftpClient) => Promise<TftpFile | null>;

export class TftpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TftpError';
  }
}

export const notFound = (what: string) => new TftpError(ErrorCode.FileNotFound, `File not found: ${what}`);
export const accessViolation = (why: string) => new TftpError(ErrorCode.AccessViolation, `Access violation: ${why}`);
