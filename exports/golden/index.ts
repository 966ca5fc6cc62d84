export type { GoldenHost, SshIdentity } from './types.js';
export { GoldenError, type GoldenErrorCode } from './errors.js';
export { ensureKeyPair, type KeyPair, KEY_FILE } from './keys.js';
export { fingerprintSha256, keyType, knownHostsLine, knownHostsName, parseKnownHosts } from './hostkey.js';
export { pinKey, pinnedKey, unpinKey } from './knownhosts.js';
export { openSession, fetchHostKey, type GoldenSession, type ExecResult, type ExecOptions } from './session.js';
export { rsyncArgv, sshCommand, parseProgress2, SEED_EXCLUDES, type RsyncOptions, type Progress } from './rsync.js';
export { shellQuote, shellJoin } from './shell.js';
export { preflight, parsePreflight, preflightScript, parseDracutVersion, type PreflightReport, type PackageStatus } from './preflight.js';
export {
  planPrepare, applyPrepare, renderDracutConf, dracutModules, dracutDrivers, DRACUT_CONF_PATH,
  type PreparePlan, type DracutConfOptions,
} from './prepare.js';
export { readFacts, parseFacts, autofsProblem, FACTS_SCRIPT, type GoldenFacts } from './facts.js';
export { parseMountinfo, foreignMounts, mountExcludes, LOCAL_DISK_FS, type Mount } from './mounts.js';
