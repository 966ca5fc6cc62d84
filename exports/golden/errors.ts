/** Golden-host errors with stable codes; the message always names the host. */
export type GoldenErrorCode =
  | 'host-key-changed'
  | 'host-key-unknown'
  | 'unreachable'
  | 'auth-failed'
  | 'command-failed'
  | 'bad-input';

export class GoldenError extends Error {
  constructor(readonly code: GoldenErrorCode, readonly host: string, message: string) {
    super(`golden host ${host}: ${message}`);
    this.name = 'GoldenError';
  }
}
