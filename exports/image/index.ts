/** exports/image: golden-host pulls into versions, stateless roots, initramfs, publish/rollback/retention. */
export type { ImageSettings, StateMode, HostKeyPolicy, RwtabEntry, RwtabType, InitramfsWhere, SelinuxMode, VersionRecord, VersionState } from './types.js';
export { pullVersion, PullError, PullBusyError, type PullOptions, type PullHooks, type PullStep } from './pull.js';
export { MemoryVersionStore, MemoryPullLock, type VersionStore, type VersionPatch, type PullLock } from './store.js';
export { validateImageName, validateVersionName, versionPaths, imageDir, newVersionName, type VersionPaths } from './names.js';
export { publishTarget, rollbackTarget, pinTarget, retentionPlan, PolicyError, type RetentionPlan } from './policy.js';
export { removeVersionTree, mountsUnder } from './tree.js';
export { failInterruptedPulls, processesIn, INTERRUPTED, type RecoverOptions, type RecoveredVersion } from './recover.js';
export {
  publishVersion, rollbackVersion, applyRetention, MemoryImageState,
  type ImageState, type ActiveChange, type RetentionResult,
} from './lifecycle.js';
export { pickKernel, bootableKernels, compareKernelVersions, copyKernel } from './kernel.js';
export {
  dracutArgv, parseLsinitrd, checkListing, networkHandler, goldenHostBuilder, chrootBuilder,
  type InitramfsBuilder, type BuildArgs, type ToolPaths, type Listing,
} from './initramfs.js';
export { sha256File, writeManifest, type Manifest, type ManifestFile } from './manifest.js';
export * from './stateless/index.js';
