/** netroot's read-only TFTP server: codec, option negotiation, server, file handlers. */
export { decode, encode, describe, TftpDecodeError } from './codec.js';
export type { TftpPacket, TftpOption, RequestPacket } from './codec.js';
export { Op, ErrorCode } from './constants.js';
export { negotiate } from './options.js';
export type { Negotiated, NegotiationLimits } from './options.js';
export { TftpServer } from './server.js';
export type { TftpServerOptions, TransferRecord, TransferResultKind } from './server.js';
export { TftpError, notFound, accessViolation } from './files.js';
export type { FileHandler, TftpFile, TftpClient } from './files.js';
export { createStaticRoot, safeSegments } from './static-root.js';
export type { StaticRootOptions } from './static-root.js';
export { FileCache, sharedCopy } from './cache.js';
export type { FileCacheOptions } from './cache.js';
