/** Errors of the NFS side, with a stable code and the field at fault (the server maps them to 400). */

export class ExportInputError extends Error {
  readonly code = 'EXPORT_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ExportInputError';
  }
}
