/** TFTP wire constants, named once after the RFCs (1350, 2347, 2348, 2349, 7440). */

/** RFC 1350 section 5 opcodes; 6 = OACK from RFC 2347. */
export const Op = {
  Rrq: 1,
  Wrq: 2,
  Data: 3,
  Ack: 4,
  Error: 5,
  Oack: 6,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

export const OpName: Record<number, string> = {
  1: 'RRQ',
  2: 'WRQ',
  3: 'DATA',
  4: 'ACK',
  5: 'ERROR',
  6: 'OACK',
};

/** RFC 1350 appendix error codes; 8 = option negotiation refused (RFC 2347). */
export const ErrorCode = {
  NotDefined: 0,
  FileNotFound: 1,
  AccessViolation: 2,
  DiskFull: 3,
  IllegalOperation: 4,
  UnknownTid: 5,
  FileExists: 6,
  NoSuchUser: 7,
  OptionRefused: 8,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** RFC 1350: data blocks are 512 octets unless blksize is negotiated. */
export const DEFAULT_BLKSIZE = 512;
/** RFC 2348: "Valid values range between 8 and 65464 octets, inclusive." */
export const MIN_BLKSIZE = 8;
export const MAX_BLKSIZE = 65464;
/** RFC 2349: timeout "Valid values range between 1 and 255 seconds, inclusive." */
export const MIN_TIMEOUT_S = 1;
export const MAX_TIMEOUT_S = 255;
/** RFC 7440: windowsize "Valid values range between 1 and 65535 blocks, inclusive." */
export const MIN_WINDOWSIZE = 1;
export const MAX_WINDOWSIZE = 65535;
/**
 * RFC 2347: "the request packet must not exceed 512 octets". A request larger than that is an
 * oversized option list and is refused rather than parsed.
 */
export const MAX_REQUEST_BYTES = 512;
/** DATA header: opcode + block number. */
export const DATA_HEADER = 4;
