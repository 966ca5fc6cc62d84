/**
 * makeStateless: every step of the seed's cleanup and read-only setup over the server's copy of a
 * root (never the golden host), in a fixed order, reporting what each step changed.
 */
import { CLEANUP_STEPS } from './cleanup.js';
import { applyHostKeyPolicy } from './hostkeys.js';
import { keyBlob, removeAuthorizedKeys } from './authkeys.js';
import { kindIn, mkdirIn, symlinkIn, writeIn } from './rootfs.js';
import {
  mergeRwtab, mergeStatetab, renderReadonlyRoot, renderRwtab, renderStatetab,
  RW_MOUNT, SEED_RWTAB, SEED_STATETAB, STATE_MOUNT,
} from './tabs.js';
import {
  BOOTED_SCRIPT, BOOTED_UNIT, HOSTKEYS_SCRIPT, HOSTKEYS_UNIT, HOSTNAME_SCRIPT, HOSTNAME_UNIT, NATIVE_READONLY_ROOT,
  READONLY_ROOT_SCRIPT, READONLY_ROOT_UNIT, renderBootedConf, SCRIPT_DIR, UNIT_DIR,
} from './portable.js';
import { applySelinux } from './selinux.js';
import type { HostKeyPolicy, RwtabEntry, SelinuxMode, StateMode } from '../types.js';

export interface StatelessOptions {
  state: StateMode;
  hostKeys: HostKeyPolicy;
  /** Default 'permissive' (selinux.ts). */
  selinux?: SelinuxMode;
  /** The image's own rwtab/statetab entries (added after the seed's). */
  rwtab?: readonly RwtabEntry[];
  statetab?: readonly string[];
  /** Where netroot-booted.service reports; null = do not install it. */
  bootReport: { server: string; port: number } | null;
  /** OpenSSH public keys to remove from every authorized_keys file (netroot's own pull key). */
  removeKeys?: readonly string[];
}

export interface StepReport {
  step: string;
  changed: string[];
  /** A line for the pull log beyond the changed files. */
  note?: string;
}

/** True when the root brings RHEL's readonly-root (then netroot only writes its config). */
export async function hasNativeReadonlyRoot(root: string): Promise<boolean> {
  for (const p of NATIVE_READONLY_ROOT) if ((await kindIn(root, p)) !== 'missing') return true;
  return false;
}

async function installUnit(root: string, name: string, text: string, wantedBy: string): Promise<string[]> {
  await writeIn(root, `${UNIT_DIR}/${name}`, text);
  // What `systemctl enable` would do: we cannot run the root's systemctl.
  await symlinkIn(root, `${UNIT_DIR}/${wantedBy}.wants/${name}`, `../${name}`);
  return [`${UNIT_DIR}/${name}`, `${UNIT_DIR}/${wantedBy}.wants/${name}`];
}

export async function makeStateless(root: string, opts: StatelessOptions): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  // Validate everything rendered from settings before touching the root.
  const roConf = renderReadonlyRoot(opts.state);
  const bootedConf = opts.bootReport ? renderBootedConf(opts.bootReport.server, opts.bootReport.port) : null;
  const removeKeys = opts.removeKeys ?? [];
  removeKeys.forEach(keyBlob);

  for (const [step, fn] of CLEANUP_STEPS) reports.push({ step, changed: await fn(root) });
  reports.push({ step: 'netroot-key', changed: await removeAuthorizedKeys(root, removeKeys) });

  const keys = await applyHostKeyPolicy(root, opts.hostKeys);
  reports.push({ step: 'ssh-host-keys', changed: keys.changed });

  const se = await applySelinux(root, opts.selinux ?? 'permissive');
  if (se.note !== null) reports.push({ step: 'selinux', changed: se.changed, note: se.note });

  const rwtab = mergeRwtab(SEED_RWTAB, opts.rwtab ?? []);
  const statetab = mergeStatetab(SEED_STATETAB, opts.statetab ?? [], keys.statetab);
  await writeIn(root, '/etc/sysconfig/readonly-root', roConf);
  await writeIn(root, '/etc/rwtab.d/netroot', renderRwtab(rwtab));
  await writeIn(root, '/etc/statetab.d/netroot', renderStatetab(statetab));
  await mkdirIn(root, RW_MOUNT);
  await mkdirIn(root, STATE_MOUNT);
  reports.push({ step: 'readonly-config', changed: ['/etc/sysconfig/readonly-root', '/etc/rwtab.d/netroot', '/etc/statetab.d/netroot'] });

  // Mount points the rsync excludes emptied must exist on a read-only root.
  for (const [p, mode] of [['/proc', 0o555], ['/sys', 0o555], ['/dev', 0o755], ['/run', 0o755], ['/tmp', 0o1777]] as const) {
    if ((await kindIn(root, p)) === 'missing') await mkdirIn(root, p, mode);
  }

  if (!(await hasNativeReadonlyRoot(root))) {
    const changed = [`${SCRIPT_DIR}/readonly-root`];
    await writeIn(root, `${SCRIPT_DIR}/readonly-root`, READONLY_ROOT_SCRIPT, 0o755);
    changed.push(...(await installUnit(root, 'netroot-readonly-root.service', READONLY_ROOT_UNIT, 'local-fs.target')));
    reports.push({ step: 'portable-readonly-root', changed });
  } else {
    // RHEL's readonly-root names the state directory after the host name (portable.ts, HOSTNAME_SCRIPT).
    const changed = [`${SCRIPT_DIR}/hostname`];
    await writeIn(root, `${SCRIPT_DIR}/hostname`, HOSTNAME_SCRIPT, 0o755);
    changed.push(...(await installUnit(root, 'netroot-hostname.service', HOSTNAME_UNIT, 'local-fs.target')));
    reports.push({ step: 'hostname-unit', changed });
  }
  if (keys.statetab.length) {
    // Whatever readonly-root the root brings: RHEL's sshd-keygen cannot fill the placeholders.
    const changed = [`${SCRIPT_DIR}/hostkeys`];
    await writeIn(root, `${SCRIPT_DIR}/hostkeys`, HOSTKEYS_SCRIPT, 0o755);
    changed.push(...(await installUnit(root, 'netroot-hostkeys.service', HOSTKEYS_UNIT, 'sysinit.target')));
    reports.push({ step: 'hostkeys-unit', changed });
  }
  if (bootedConf !== null) {
    const changed = [`${SCRIPT_DIR}/booted`, '/etc/netroot/booted.conf'];
    await writeIn(root, `${SCRIPT_DIR}/booted`, BOOTED_SCRIPT, 0o755);
    await writeIn(root, '/etc/netroot/booted.conf', bootedConf);
    changed.push(...(await installUnit(root, 'netroot-booted.service', BOOTED_UNIT, 'multi-user.target')));
    reports.push({ step: 'booted-unit', changed });
  }
  return reports;
}
