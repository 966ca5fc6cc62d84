/**
 * The VM: QEMU under TCG (KVM here runs only modified guests, docs/lab.md, trap 1), one CPU
 * `qemu64,-svm`, 1 GiB, no disk, one NIC on the boot namespace's tap. The serial console is the
 * process's stdio (`-nographic -serial stdio`: with -display none the firmware and iPXE output is
 * missing), timestamped line by line into a log file; commands go to its stdin. A monitor socket
 * gives power control (system_reset, quit). Stopped by PID.
 *
 * Firmware cases (the three):
 *   bios        SeaBIOS + the NIC's iPXE ROM (ipxe-qemu)
 *   uefi        OVMF + the NIC's iPXE EFI ROM
 *   uefi-norom  OVMF with the NIC ROM off: the firmware's own PXE loads netroot's ipxe.efi
 */
import { copyFile, mkdir, appendFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Ns } from '../../helpers/netns.js';
import type { Started } from '../../helpers/proc.js';

export type Firmware = 'bios' | 'uefi' | 'uefi-norom';
export const FIRMWARES: readonly Firmware[] = ['bios', 'uefi', 'uefi-norom'];

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const QEMU = '/usr/bin/qemu-system-x86_64';

export interface VmOptions {
  ns: Ns;
  /** Per-VM dir: serial log, monitor socket, OVMF vars copy. */
  dir: string;
  firmware: Firmware;
  mac: string;
  tap: string;
  nic?: 'virtio-net-pci' | 'e1000';
  memMiB?: number;
  /** Also copy the console to this callback as it arrives (the interactive lab). */
  echo?: (chunk: string) => void;
}

export interface SerialLine {
  /** ms since QEMU started. */
  t: number;
  text: string;
}

export interface Vm {
  firmware: Firmware;
  /** Wall-clock time QEMU was started (ms since epoch). */
  startedAt: number;
  logPath: string;
  lines(): readonly SerialLine[];
  /** Index of the next line: pass as `from` to wait only for what comes after now. */
  mark(): number;
  /** First line (at or after line index `from`) matching re; rejects on timeout or exit. */
  waitFor(re: RegExp, timeoutMs: number, from?: number): Promise<SerialLine & { index: number; match: RegExpMatchArray }>;
  /** Types raw text on the serial console. */
  send(text: string): void;
  /** Runs a shell command on the booted node's serial shell; resolves with its output and status. */
  sh(cmd: string, timeoutMs?: number): Promise<{ out: string; code: number }>;
  /** The last n console lines (failure reports). */
  tail(n?: number): string;
  monitor(cmd: string): Promise<string>;
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

export function qemuArgv(o: VmOptions, monitorSock: string, varsCopy: string): string[] {
  const nic = o.nic ?? 'virtio-net-pci';
  const argv = [
    QEMU, '-name', `netroot-e2e-${o.firmware}`,
    '-accel', 'tcg', '-smp', '1', '-cpu', 'qemu64,-svm', '-m', String(o.memMiB ?? 1024),
    '-nographic', '-serial', 'stdio', '-monitor', `unix:${monitorSock},server=on,wait=off`,
    '-netdev', `tap,id=n0,ifname=${o.tap},script=no,downscript=no`,
    // The default ROM (ipxe-qemu's efi-*.rom) carries both the BIOS and the EFI iPXE driver.
    '-device', `${nic},netdev=n0,mac=${o.mac}${o.firmware === 'uefi-norom' ? ',romfile=' : ''}`,
    '-no-user-config', '-nodefaults',
  ];
  if (o.firmware === 'bios') argv.push('-boot', 'order=n');
  else argv.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${varsCopy}`);
  return argv;
}

export async function startVm(o: VmOptions): Promise<Vm> {
  for (const f of [QEMU, OVMF_CODE, OVMF_VARS, '/usr/lib/ipxe/qemu/efi-virtio.rom']) {
    if (!existsSync(f)) throw new Error(`${f} missing: install qemu-system-x86 ovmf ipxe-qemu (scripts/deps/e2e.txt)`);
  }
  await mkdir(o.dir, { recursive: true });
  const monitorSock = join(o.dir, 'monitor.sock');
  const varsCopy = join(o.dir, 'OVMF_VARS.fd');
  // OVMF writes its variables (boot order, ...): each VM gets its own writable copy.
  if (o.firmware !== 'bios') await copyFile(OVMF_VARS, varsCopy);
  const logPath = join(o.dir, 'serial.log');
  await writeFile(logPath, '');
  const argv = qemuArgv(o, monitorSock, varsCopy);
  const startedAt = Date.now();
  const proc: Started = o.ns.start(argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: SerialLine[] = [];
  // The last entry of `lines` may be an unterminated line (a prompt such as "login: " ends without
  // a newline): it is replaced when the rest of it arrives, and waiters look at it again.
  let open = false;
  let openRaw = '';
  let firstChanged = 0;
  const waiters = new Set<() => void>();
  let writing = Promise.resolve();
  // eslint-disable-next-line no-control-regex
  const clean = (l: string) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
  proc.child.stdout!.on('data', (d: Buffer) => {
    const s = d.toString('latin1');
    o.echo?.(s);
    const t = Date.now() - startedAt;
    // Firmware output uses \r and ANSI escapes: split on either line end; escapes are dropped per
    // whole line (a sequence can straddle two chunks).
    let text = s;
    if (open) {
      lines.pop();
      text = openRaw + text;
      open = false;
    }
    firstChanged = lines.length;
    const parts = text.split(/\r\n|\n|\r/);
    const last = parts.pop() ?? '';
    const done = parts.map(clean).filter((p) => p.trim());
    for (const p of done) lines.push({ t, text: p });
    if (clean(last).trim()) {
      lines.push({ t, text: clean(last) });
      open = true;
      openRaw = last;
    }
    const chunk = done.map((p) => `[${(t / 1000).toFixed(1).padStart(6)}] ${p}\n`).join('');
    writing = writing.then(() => appendFile(logPath, chunk)).catch(() => undefined);
    for (const w of [...waiters]) w();
  });
  proc.child.stderr!.on('data', (d: Buffer) => {
    lines.push({ t: Date.now() - startedAt, text: `[qemu] ${d.toString().trimEnd()}` });
  });
  void proc.exited.then(() => { for (const w of [...waiters]) w(); });

  const vm: Vm = {
    firmware: o.firmware,
    startedAt,
    logPath,
    exited: proc.exited,
    lines: () => lines,
    mark: () => lines.length,
    waitFor(re, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        let i = from;
        const check = () => {
          i = Math.min(i, Math.max(firstChanged, from));
          for (; i < lines.length; i++) {
            const m = lines[i]!.text.match(re);
            if (m) {
              done();
              resolve({ ...lines[i]!, index: i, match: m });
              return;
            }
          }
          if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
            done();
            reject(new Error(`QEMU (${o.firmware}) exited before ${re}; console tail:\n${vm.tail()}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timeout (${timeoutMs / 1000} s) waiting for ${re} on the ${o.firmware} VM's console; tail:\n${vm.tail()}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    send(text) {
      proc.child.stdin!.write(text);
    },
    async sh(cmd, timeoutMs = 60_000) {
      // Markers built by the shell ("NR"'B'...) so the echoed command line never matches them.
      const id = randomBytes(3).toString('hex');
      const from = vm.mark();
      vm.send(`echo "NR""B${id}"; ${cmd}; echo "NR""E${id} $?"\n`);
      const end = await vm.waitFor(new RegExp(`^NRE${id} (\\d+)`), timeoutMs, from);
      const begin = lines.slice(from, end.index).findIndex((l) => l.text === `NRB${id}`);
      const out = begin < 0 ? [] : lines.slice(from + begin + 1, end.index).map((l) => l.text);
      return { out: out.join('\n'), code: Number(end.match[1]) };
    },
    tail(n = 60) {
      return lines.slice(-n).map((l) => `[${(l.t / 1000).toFixed(1).padStart(6)}] ${l.text}`).join('\n');
    },
    monitor(cmd) {
      return new Promise((resolve, reject) => {
        const s = connect(monitorSock);
        let out = '';
        let sentAt = -1;
        const timer = setTimeout(() => { s.destroy(); reject(new Error(`monitor: no answer to ${cmd}`)); }, 10_000);
        const finish = () => { clearTimeout(timer); s.end(); resolve(sentAt < 0 ? '' : out.slice(sentAt)); };
        s.on('data', (d) => {
          out += d.toString();
          if (!out.endsWith('(qemu) ')) return;
          // First prompt (after the banner): send; next prompt: the answer is complete.
          if (sentAt < 0) {
            sentAt = out.length;
            s.write(`${cmd}\n`);
          } else finish();
        });
        s.on('close', finish);
        s.on('error', (e) => { clearTimeout(timer); reject(e); });
      });
    },
    async stop() {
      // `ip netns exec` execs QEMU in place: this PID is QEMU's own.
      await proc.stop(5000);
      await writing;
    },
  };
  return vm;
}
