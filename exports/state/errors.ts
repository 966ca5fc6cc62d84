/** State-directory errors with stable codes (the server maps NOT_FOUND to 404, EXISTS to 409,
 * UNSAFE and bad input to 400). */

export type StateErrorCode = 'STATE_NOT_FOUND' | 'STATE_EXISTS' | 'STATE_UNSAFE' | 'STATE_INPUT';

export class StateDirError extends Error {
  constructor(
    readonly code: StateErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'StateDirError';
  }
}
