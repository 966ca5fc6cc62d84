/** Per-FQDN state directories: create (with statetab paths), rename, archive, restore, usage. */
export { StateDirectories, ARCHIVE_DIR, type ArchivedDir, type CreateResult, type CreateStateOptions, type RenameOptions, type StateDirsOptions, type StateEntryKind } from './dirs.js';
export { StateDirError, type StateErrorCode } from './errors.js';
export type { Usage } from './walk.js';
export { BOOT_TOKEN_FILE, writeBootToken } from './boot-token.js';
