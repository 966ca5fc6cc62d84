export { makeStateless, hasNativeReadonlyRoot, type StatelessOptions, type StepReport } from './make.js';
export { CLEANUP_STEPS, FSTAB, DEBIAN_INTERFACES, type Step } from './cleanup.js';
export {
  SEED_RWTAB, SEED_STATETAB, RW_MOUNT, STATE_MOUNT, renderReadonlyRoot, renderRwtab, renderStatetab,
  mergeRwtab, mergeStatetab, parseRwtabEntry,
} from './tabs.js';
export {
  BOOT_MARKER, READONLY_ROOT_SCRIPT, BOOTED_SCRIPT, HOSTKEYS_SCRIPT, HOSTNAME_SCRIPT, READONLY_ROOT_UNIT, BOOTED_UNIT, HOSTKEYS_UNIT, HOSTNAME_UNIT,
  NATIVE_READONLY_ROOT, READONLY_ROOT_UNITS, SSHD_KEYGEN_UNITS,
} from './portable.js';
export { resolveInRoot } from './rootfs.js';
export { removeAuthorizedKeys, authorizedKeysFiles } from './authkeys.js';
export { applySelinux, selinuxMode, setSelinuxMode, SELINUX_CONFIG, type SelinuxResult } from './selinux.js';
