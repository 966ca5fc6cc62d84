/**
 * One boot of the VM and what the serial console says about it: waits for the login prompt (and,
 * with netroot, the node's `booted` event), and reads the stage times (DHCP bound, kernel
 * started, root mounted, login prompt) from the console. Times are ms from the boot's start (QEMU
 * start, or the moment a reboot was asked for).
 */
import { NET } from './network.js';
import type { Vm } from './qemu.js';

/** agetty prints "<host> login: " (with autologin: "... login: root (automatic login)"). */
export const LOGIN_RE = /\blogin: /;

/** Console markers of the stages, first match wins (iPXE ROM, or the UEFI firmware's own PXE). */
export const STAGES = {
  dhcpBound: /Configuring \(net0 [0-9a-f:]+\)[. ]*ok|Station IP address is|net0: \d+\.\d+\.\d+\.\d+\//,
  kernelStarted: /Linux version \d/,
  // dracut's NFS root is mounted on /sysroot before the switch; systemd reports the target.
  rootMounted: /Reached target .*(initrd-root-fs|Initrd Root File System)|Mounted sysroot|nfsroot.*mounted/i,
  loginPrompt: LOGIN_RE,
} as const;
export type Stage = keyof typeof STAGES;
export type StageTimes = Partial<Record<Stage | 'booted', number>>;

export interface BootWatch {
  /** Console line index the boot starts at. */
  from: number;
  /** ms (QEMU clock) the boot started at. */
  t0: number;
  /** Wall clock (ms epoch) the boot started at: events at or after it belong to this boot. */
  wall: number;
}

export function watchFromNow(vm: Vm): BootWatch {
  return { from: vm.mark(), t0: Date.now() - vm.startedAt, wall: Date.now() };
}

export function watchFromStart(vm: Vm): BootWatch {
  return { from: 0, t0: 0, wall: vm.startedAt };
}

/** Stage times seen so far in this boot (ms after its start). */
export function stageTimes(vm: Vm, w: BootWatch): StageTimes {
  const out: StageTimes = {};
  const lines = vm.lines();
  for (const [name, re] of Object.entries(STAGES) as [Stage, RegExp][]) {
    for (let i = w.from; i < lines.length; i++) {
      if (re.test(lines[i]!.text)) {
        out[name] = lines[i]!.t - w.t0;
        break;
      }
    }
  }
  return out;
}

/** Logs in is automatic (autologin on ttyS0): waits for the prompt, then for a working shell. */
export async function waitLogin(vm: Vm, w: BootWatch, timeoutMs: number): Promise<void> {
  await vm.waitFor(LOGIN_RE, timeoutMs, w.from);
  // The autologin shell needs a moment; a command that answers proves it is there.
  for (let i = 0; ; i++) {
    try {
      await vm.sh('dmesg -n 1; stty cols 250 2>/dev/null; true', 15_000);
      return;
    } catch (e) {
      if (i >= 5) throw e;
      vm.send('\n');
    }
  }
}

/** Asks the node to reboot over its console; a hung shutdown is cut short by a reset. */
export async function reboot(vm: Vm, hardAfterMs = 90_000): Promise<BootWatch> {
  const w = watchFromNow(vm);
  vm.send('systemctl reboot\n');
  void vm.waitFor(STAGES.kernelStarted, hardAfterMs, w.from).catch(async () => {
    if (vm.lines().slice(w.from).some((l) => STAGES.kernelStarted.test(l.text))) return;
    await vm.monitor('system_reset').catch(() => undefined);
  });
  return w;
}

export function formatStages(s: StageTimes): string {
  const f = (v?: number) => (v === undefined ? '-' : `${(v / 1000).toFixed(1)} s`);
  return `DHCP bound ${f(s.dhcpBound)}, kernel started ${f(s.kernelStarted)}, root mounted ${f(s.rootMounted)}, login prompt ${f(s.loginPrompt)}, booted event ${f(s.booted)}`;
}

/** What the checks on the node read: `findmnt` of a path, as {source, fstype, options}. */
export async function mountOf(vm: Vm, path: string): Promise<{ source: string; fstype: string; options: string }> {
  const r = await vm.sh(`findmnt -n -o SOURCE,FSTYPE,OPTIONS --target ${path} | tail -n 1`);
  const [source = '', fstype = '', options = ''] = r.out.trim().split(/\s+/);
  return { source, fstype, options };
}

export const NODE = { mac: NET.vmMac, fqdn: NET.vmFqdn, ip: NET.vm };
