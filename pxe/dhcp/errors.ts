/** The one error the DHCP codec throws: `code` is stable (used as the drop reason), `field` names what was wrong. */

export type DhcpDecodeCode =
  | 'truncated'
  | 'oversized'
  | 'bad-op'
  | 'bad-magic'
  | 'bad-header'
  | 'bad-option'
  | 'bad-overload';

export class DhcpDecodeError extends Error {
  override readonly name = 'DhcpDecodeError';
  constructor(
    readonly code: DhcpDecodeCode,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Thrown by encode() for a packet that cannot be put on the wire (a programming error, not input). */
export class DhcpEncodeError extends Error {
  override readonly name = 'DhcpEncodeError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
