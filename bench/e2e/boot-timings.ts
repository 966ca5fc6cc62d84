/**
 * Boot stage timings of the same VM and the same image version, booted by netroot and by the
 * stand-in (dnsmasq DHCP + TFTP, the servers this VM was first booted from: docs/lab.md), in the
 * same run: same Ganesha, same kernel + initramfs, same command line. Stages from the serial
 * console (DHCP bound, kernel started, root mounted, login prompt) and, for netroot, its timeline
 * (DHCP ack, kernel and initramfs served, booted).
 *
 *   npm run build && node dist/bench/e2e/boot-timings.js [bios,uefi] [rounds=1]
 *
 * Writes bench/e2e/results/<timestamp>.json and prints a Markdown table. Bounded: rounds x
 * firmwares x 2 boots, each with a 6-minute timeout. Runs only inside its own namespaces.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createE2eLab, type E2eLab } from '../../test/e2e/lab/scenario.js';
import { IMAGE, createImage, publish, pull, registerGoldenHost, registerNode, timeline, waitBootedEvent } from '../../test/e2e/lab/flow.js';
import { startVm, type Firmware, type Vm } from '../../test/e2e/lab/qemu.js';
import { NET } from '../../test/e2e/lab/network.js';
import { formatStages, stageTimes, waitLogin, watchFromStart, type StageTimes } from '../../test/e2e/lab/boot.js';
import { startStandin } from '../../test/e2e/lab/standin.js';

const BOOT_TIMEOUT_MS = 6 * 60_000;
const RESULTS = fileURLToPath(new URL('../../../bench/e2e/results', import.meta.url));

interface Row {
  server: 'netroot' | 'dnsmasq';
  firmware: Firmware;
  round: number;
  serial: StageTimes;
  /** netroot's timeline, ms after QEMU start: first DHCP ack, kernel and initrd served, booted. */
  timeline?: Record<string, number>;
}

const say = (m: string) => console.log(`# ${m}`);

async function bootOnce(lab: E2eLab, firmware: Firmware, tag: string, withNetroot: boolean): Promise<Row['serial'] & { tl?: Record<string, number> }> {
  const vm: Vm = await startVm({ ns: lab.net.boot, dir: join(lab.dir, `vm-${tag}`), firmware, mac: NET.vmMac, tap: NET.tap });
  try {
    const w = watchFromStart(vm);
    await waitLogin(vm, w, BOOT_TIMEOUT_MS);
    const s: StageTimes = stageTimes(vm, w);
    if (!withNetroot) return s;
    await waitBootedEvent(lab, w.wall, 120_000);
    const tl: Record<string, number> = {};
    for (const e of await timeline(lab)) {
      const t = Date.parse(e.at) - w.wall;
      if (t < -1000) continue;
      for (const k of ['dhcp.ack', 'http.kernel', 'http.initrd', 'booted']) if (e.kind === k && tl[k] === undefined) tl[k] = t;
    }
    s.booted = tl.booted;
    return { ...s, tl };
  } catch (e) {
    console.error(`${tag} failed; console tail:\n${vm.tail(60)}`);
    throw e;
  } finally {
    await vm.stop();
  }
}

function table(rows: Row[]): string {
  const f = (v?: number) => (v === undefined ? '-' : (v / 1000).toFixed(1));
  const out = [
    '| server | firmware | DHCP bound | kernel started | root mounted | login prompt | booted (event) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    out.push(`| ${r.server} | ${r.firmware} | ${f(r.serial.dhcpBound)} | ${f(r.serial.kernelStarted)} | ${f(r.serial.rootMounted)} | ${f(r.serial.loginPrompt)} | ${f(r.serial.booted)} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const firmwares = (process.argv[2] ?? 'bios,uefi').split(',') as Firmware[];
  const rounds = Math.min(5, Math.max(1, Number(process.argv[3] ?? 1)));
  const lab = await createE2eLab({ say });
  const rows: Row[] = [];
  try {
    await registerGoldenHost(lab);
    await createImage(lab);
    const v = await pull(lab);
    await publish(lab, v);
    await registerNode(lab);
    const boot = await lab.api('GET', `/nodes/${NET.vmMac}/boot`);
    const cmdline = String(boot.cmdline).split(/\s+/).filter((t) => !t.startsWith('initrd=')).join(' ');
    say(`version ${v}; command line: ${cmdline}`);
    for (let round = 1; round <= rounds; round++) {
      for (const fw of firmwares) {
        const r = await bootOnce(lab, fw, `netroot-${fw}-${round}`, true);
        const { tl, ...serial } = r;
        rows.push({ server: 'netroot', firmware: fw, round, serial, timeline: tl });
        say(`netroot ${fw}: ${formatStages(serial)}`);
      }
    }
    // The stand-in: netroot stopped (one DHCP server per link); its Ganesha exports stay.
    await lab.nr.stop();
    const versionDir = join(lab.nr.dataDir, 'images', IMAGE, v);
    const standin = await startStandin({
      ns: lab.net.boot, dir: join(lab.dir, 'standin'), kernel: join(versionDir, 'boot/vmlinuz'), initrd: join(versionDir, 'boot/initramfs.img'), cmdline,
    });
    try {
      for (let round = 1; round <= rounds; round++) {
        for (const fw of firmwares) {
          const serial = await bootOnce(lab, fw, `dnsmasq-${fw}-${round}`, false);
          rows.push({ server: 'dnsmasq', firmware: fw, round, serial });
          say(`dnsmasq ${fw}: ${formatStages(serial)}`);
        }
      }
    } finally {
      await standin.stop();
    }
  } finally {
    await lab.destroy();
  }
  await mkdir(RESULTS, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(RESULTS, `boot-timings-${stamp}.json`);
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), unit: 's after QEMU start', rows }, null, 2)}\n`);
  console.log(`\nseconds after QEMU start (TCG, 2 cores)\n\n${table(rows)}\n\nwritten to ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
