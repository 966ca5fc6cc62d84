/**
 * `npm run lab`: netroot's end-to-end set-up for a new user, interactively. Builds (or reuses) the
 * golden root, starts the lab network, NFS-Ganesha, netroot and the golden host in their own
 * namespaces, registers the golden host, pulls and publishes an image, registers a VM, prints the
 * web UI's URL (a port forward from 127.0.0.1 into the namespace) and boots the VM with its serial
 * console shown here. Lines typed are sent to the VM's console. Ctrl-C tears everything down.
 *
 *   npm run lab [-- --firmware bios|uefi|uefi-norom] [--port 8080] [--no-boot]
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createE2eLab, HTTP_PORT, type E2eLab } from './lab/scenario.js';
import { IMAGE, createImage, formatTimeline, publish, pull, registerGoldenHost, registerNode, timeline } from './lab/flow.js';
import { FIRMWARES, startVm, type Firmware, type Vm } from './lab/qemu.js';
import { NET } from './lab/network.js';
import { forwardPort, type Forward } from './lab/forward.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const say = (m: string) => console.log(`\x1b[1m[lab]\x1b[0m ${m}`);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, QEMU taps, mounts): run it with sudo');
  const firmware = arg('firmware', 'bios') as Firmware;
  if (!FIRMWARES.includes(firmware)) throw new Error(`--firmware: one of ${FIRMWARES.join(', ')}`);
  const port = Number(arg('port', '8080'));
  let lab: E2eLab | null = null;
  let vm: Vm | null = null;
  let fwd: Forward | null = null;
  let tearing = false;
  const teardown = async (code: number) => {
    if (tearing) return;
    tearing = true;
    say('tearing down: VM, port forward, golden host, netroot, Ganesha, namespaces');
    await vm?.stop().catch(() => undefined);
    await fwd?.close().catch(() => undefined);
    await lab?.destroy().catch((e) => console.error(e));
    say('done');
    process.exit(code);
  };
  process.on('SIGINT', () => void teardown(0));
  process.on('SIGTERM', () => void teardown(0));
  try {
    say('setting up netroot\'s lab: everything lives in network namespaces with 10.54.0.0/24; nothing touches eth0');
    lab = await createE2eLab({ say });
    fwd = await forwardPort(lab.net.boot, port, NET.server, HTTP_PORT);
    say(`web UI: ${fwd.url}/  (forwarded into the namespace to ${lab.nr.url})`);
    say(`admin token (shown once): ${lab.nr.token}`);
    say(`CLI: NETROOT_URL=${fwd.url} NETROOT_TOKEN=${lab.nr.token} node bin/netroot.js node list`);
    await registerGoldenHost(lab);
    await createImage(lab);
    say(`image ${IMAGE}: pulling from the golden host (rsync over SSH, stateless config, dracut there): a few minutes`);
    const v = await pull(lab);
    await publish(lab, v);
    await registerNode(lab);
    say(`version ${v} published; node ${NET.vmFqdn} (${NET.vmMac}, ${NET.vm}) registered`);
    if (process.argv.includes('--no-boot')) {
      say('not booting (--no-boot); Ctrl-C to tear down');
      return;
    }
    say(`booting the VM (${firmware}, QEMU under TCG: about a minute to the login prompt). Lines you type go to its console; Ctrl-C ends the lab.`);
    vm = await startVm({ ns: lab.net.boot, dir: join(lab.dir, 'vm'), firmware, mac: NET.vmMac, tap: NET.tap, echo: (s) => process.stdout.write(s) });
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (l) => vm?.send(`${l}\n`));
    const started = vm.startedAt;
    void vm.waitFor(/\blogin: /, 10 * 60_000).then(async () => {
      await new Promise((r) => setTimeout(r, 3000));
      say(`the node is up. Its timeline in netroot:\n${formatTimeline(await timeline(lab!), started)}`);
      say(`see it in the web UI: ${fwd!.url}/ ; Ctrl-C tears everything down`);
    }, () => undefined);
    void vm.exited.then(() => { if (!tearing) void teardown(0); });
  } catch (e) {
    console.error(e);
    await teardown(1);
  }
}

void main();
