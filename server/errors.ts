/**
 * netroot's one error type for things a caller can act on. Stable codes; the HTTP error handler
 * maps them to statuses and `{error: {code, message, field?}}`. Anything else is a bug: logged, 500.
 */

export const ErrorCode = {
  Invalid: 'invalid',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  BodyTooLarge: 'body_too_large',
  Unavailable: 'unavailable',
  /** A peer netroot works with (a golden host) failed or refused. */
  Upstream: 'upstream',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  body_too_large: 413,
  unavailable: 503,
  upstream: 502,
  internal: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

export const invalid = (field: string, message: string) => new AppError(ErrorCode.Invalid, `${field}: ${message}`, field);
export const notFound = (what: string) => new AppError(ErrorCode.NotFound, `${what} not found`);
export const conflict = (field: string, message: string) => new AppError(ErrorCode.Conflict, message, field);
