/**
 * End to end (issue 8): a VM PXE-boots a read-only NFS root from netroot, keeps its state and
 * rolls back. Everything runs in network namespaces the test makes (never eth0): netroot from the
 * built project (DHCP full mode, TFTP + HTTP boot, Ganesha as NFS backend), a golden host
 * (debootstrap root, chrooted sshd), QEMU under TCG. All admin steps go through the REST API.
 *
 * Four boots cover every case of the issue, in this order:
 *   1. BIOS (SeaBIOS + iPXE ROM), version 1: / is ro NFS from v1, rwtab path on tmpfs, /var/log
 *      is the node's state dir; a file is written under /var/log.
 *   2. Reboot from the node's console: the file is still there, and in state/<fqdn>/ on the server.
 *   3. UEFI (OVMF + iPXE EFI ROM) after v2 (a file added on the golden host) is published: the
 *      change is visible, the state file too.
 *   4. UEFI with the NIC ROM off (firmware PXE -> netroot's ipxe.efi) after a rollback: the change
 *      is gone. Its timeline shows every step: DHCP offer/ack, boot loader, script, kernel,
 *      initramfs, booted.
 * Every boot also checks what issue 14 asks of a hostile network: the node runs its own SSH host
 * key (made on its first boot, kept in its state directory), netroot's pull key is not root's
 * on it, the images tree is exported to registered addresses only, and netroot knows the version
 * the node runs from the node's own report.
 * Pass = netroot's `booted` event AND the login prompt on the serial console. On a failure the
 * console tail and the node's timeline are printed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createE2eLab, type E2eLab } from './lab/scenario.js';
import { IMAGE, RWTAB_PATH, STATETAB_PATH, createImage, formatTimeline, publish, pull, registerGoldenHost, registerNode, rollback, timeline, waitBootedEvent, type TimelineEvent } from './lab/flow.js';
import { startVm, type Firmware, type Vm } from './lab/qemu.js';
import { NET } from './lab/network.js';
import { formatStages, mountOf, reboot, stageTimes, waitLogin, watchFromStart, type BootWatch } from './lab/boot.js';

// Generous: under TCG on a busy 2-core CI machine a boot takes 1-5 minutes.
const BOOT_TIMEOUT_MS = 10 * 60_000;
const CHANGE_FILE = '/etc/netroot-e2e-release';

let lab: E2eLab;
let vm: Vm | null = null;
let v1 = '';
let v2 = '';
let hostKey = '';
const stateMark = `e2e-${randomBytes(4).toString('hex')}`;
const say = (m: string) => console.log(`# ${m}`);

async function stopVm(): Promise<void> {
  await vm?.stop();
  vm = null;
}

/** Runs one step; on failure prints the console tail and the node's timeline, then rethrows. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    let tl = '';
    try {
      tl = formatTimeline(await timeline(lab), vm?.startedAt ?? 0);
    } catch (te) {
      tl = `(timeline unavailable: ${(te as Error).message})`;
    }
    console.error(`\n=== ${what} failed ===\n--- serial console (${vm?.firmware ?? 'no VM'}) ---\n${vm?.tail(80) ?? ''}\n--- timeline of ${NET.vmMac} ---\n${tl}\n--- netroot (tail) ---\n${lab?.nr.proc.output().split('\n').slice(-30).join('\n')}\n--- ganesha (tail) ---\n${await lab?.ganesha.logTail(15)}\n`);
    throw e;
  }
}

/** Waits for both pass conditions of a boot; returns the stage times. */
async function booted(w: BootWatch, label: string): Promise<void> {
  await Promise.all([waitLogin(vm!, w, BOOT_TIMEOUT_MS), waitBootedEvent(lab, w.wall, BOOT_TIMEOUT_MS)]);
  const ev = (await timeline(lab)).filter((e) => e.kind === 'booted' && Date.parse(e.at) >= w.wall - 1000)[0];
  const s = { ...stageTimes(vm!, w), booted: ev ? Date.parse(ev.at) - w.wall : undefined };
  say(`${label}: ${formatStages(s)}`);
}

async function bootFresh(firmware: Firmware): Promise<BootWatch> {
  await stopVm();
  vm = await startVm({ ns: lab.net.boot, dir: join(lab.dir, `vm-${firmware}`), firmware, mac: NET.vmMac, tap: NET.tap });
  return watchFromStart(vm);
}

/** What netroot says the node runs: the version on its own command line, from its report. */
async function runsVersion(version: string): Promise<void> {
  const node = await lab.api('GET', `/nodes/${NET.vmMac}`);
  assert.deepEqual(node.running && [node.running.image, node.running.version], [IMAGE, version], `running: ${JSON.stringify(node.running)}`);
}

/** The node's SSH host key (per-node keys are the default): its own, kept in its state directory. */
async function nodeHostKey(): Promise<string> {
  const key = (await vm!.sh('cat /etc/ssh/ssh_host_ed25519_key.pub')).out.trim().split(/\s+/)[1] ?? '';
  assert.ok(key.length > 40, `no host key on the node: ${key}`);
  const inState = readFileSync(join(lab.nr.dataDir, 'state', NET.vmFqdn, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/)[1];
  assert.equal(inState, key, 'the key is the one kept in the node state directory');
  return key;
}

async function rootIsVersion(version: string): Promise<void> {
  const root = await mountOf(vm!, '/');
  assert.match(root.fstype, /^nfs4?$/, `/ is ${JSON.stringify(root)}`);
  assert.match(root.options, /(^|,)ro(,|$)/, `/ not read-only: ${root.options}`);
  assert.ok(root.source.startsWith(`${NET.server}:`) && root.source.includes(`/images/${IMAGE}/${version}/root`), `/ from ${root.source}, want version ${version}`);
}

before(async () => {
  lab = await createE2eLab({ say, keep: process.env.NETROOT_E2E_KEEP === '1' });
  await step('golden host + image v1', async () => {
    await registerGoldenHost(lab);
    await createImage(lab);
    say('pulling version 1 (rsync over SSH, stateless config, dracut on the golden host)');
    v1 = await pull(lab);
    await publish(lab, v1);
    await registerNode(lab);
    say(`image ${IMAGE} version ${v1} published; node ${NET.vmFqdn} (${NET.vmMac}, ${NET.vm}) registered`);
  });
});

after(async () => {
  await stopVm();
  await lab?.destroy();
});

test('BIOS: boots v1 to a login prompt; / is read-only NFS, rwtab on tmpfs, /var/log is the state dir', async () => {
  await step('BIOS boot', async () => {
    const w = await bootFresh('bios');
    await booted(w, 'BIOS boot (v1)');
    await rootIsVersion(v1);
    const rw = await mountOf(vm!, RWTAB_PATH);
    assert.equal(rw.fstype, 'tmpfs', `${RWTAB_PATH}: ${JSON.stringify(rw)}`);
    assert.equal((await vm!.sh(`touch ${RWTAB_PATH}/e2e-rw && echo rw-ok`)).out.trim(), 'rw-ok');
    const st = await mountOf(vm!, STATETAB_PATH);
    assert.match(st.fstype, /^nfs4?$/, `${STATETAB_PATH}: ${JSON.stringify(st)}`);
    assert.ok(st.source.includes(`/state/${NET.vmFqdn}`), `${STATETAB_PATH} from ${st.source}`);
    const wr = await vm!.sh(`echo ${stateMark} > ${STATETAB_PATH}/netroot-e2e.txt && sync && cat ${STATETAB_PATH}/netroot-e2e.txt`);
    assert.equal(wr.code, 0, wr.out);
    assert.equal(wr.out.trim(), stateMark);
    await runsVersion(v1);
    // What the image gives away: not the golden host's SSH host key (each node makes its own,
    // in its state), not netroot's pull key in root's authorized_keys.
    hostKey = await nodeHostKey();
    const golden = (await lab.golden.sh('cat /etc/ssh/ssh_host_ed25519_key.pub')).trim().split(/\s+/)[1];
    assert.notEqual(hostKey, golden, "the golden host's private key is not the node's");
    const pullKey = String((await lab.api('GET', '/ssh/key')).publicKey).split(/\s+/)[1]!;
    assert.doesNotMatch((await vm!.sh('cat /root/.ssh/authorized_keys 2>/dev/null; true')).out, new RegExp(pullKey.replace(/[+/]/g, '\\$&')));
    // The images tree is exported to registered node addresses only (not to the lab network).
    const table = String((await lab.api('GET', '/exports')).rendered ?? '');
    assert.ok(table.includes(NET.vm), `the node's address is in the export table:\n${table}`);
    assert.ok(!table.includes('10.54.0.0/24'), `no network-wide export:\n${table}`);
  });
});

test('state survives a reboot, and is in state/<fqdn>/ on the server', async () => {
  await step('reboot', async () => {
    // v2 is pulled meanwhile (a visible change added on the golden host): one pull per image at a time.
    await lab.golden.writeFile(CHANGE_FILE, 'netroot e2e version 2\n');
    const pulling = pull(lab);
    pulling.catch(() => undefined);
    const w = await reboot(vm!);
    await booted(w, 'reboot (v1)');
    assert.equal((await vm!.sh(`cat ${STATETAB_PATH}/netroot-e2e.txt`)).out.trim(), stateMark);
    const onServer = join(lab.nr.dataDir, 'state', NET.vmFqdn, 'var/log/netroot-e2e.txt');
    assert.ok(existsSync(onServer), `${onServer} missing`);
    assert.equal(readFileSync(onServer, 'utf8').trim(), stateMark);
    assert.notEqual((await vm!.sh(`test -e ${CHANGE_FILE}`)).code, 0, 'v1 has no change file');
    assert.equal(await nodeHostKey(), hostKey, 'the node keeps its host key across reboots');
    v2 = await pulling;
    say(`version ${v2} pulled`);
  });
});

test('UEFI: v2 published, the node boots it and sees the change (and keeps its state)', async () => {
  await step('UEFI boot', async () => {
    assert.ok(v2, 'version 2 was pulled');
    await publish(lab, v2);
    const w = await bootFresh('uefi');
    await booted(w, 'UEFI boot (v2)');
    await rootIsVersion(v2);
    assert.equal((await vm!.sh(`cat ${CHANGE_FILE}`)).out.trim(), 'netroot e2e version 2');
    assert.equal((await vm!.sh(`cat ${STATETAB_PATH}/netroot-e2e.txt`)).out.trim(), stateMark);
    await runsVersion(v2);
  });
});

test('UEFI without the NIC ROM: after a rollback the change is gone; the timeline shows every step', async () => {
  await step('UEFI (firmware PXE) boot', async () => {
    assert.equal(await rollback(lab), v1);
    const w = await bootFresh('uefi-norom');
    await booted(w, 'UEFI, firmware PXE (rolled back to v1)');
    await rootIsVersion(v1);
    await runsVersion(v1);
    assert.notEqual((await vm!.sh(`test -e ${CHANGE_FILE}`)).code, 0, 'rolled back: no change file');
    const events = (await timeline(lab)).filter((e) => Date.parse(e.at) >= w.wall - 1000);
    say(`timeline of this boot:\n${formatTimeline(events, w.wall)}`);
    const kinds = events.map((e) => e.kind);
    const firstAt = (pred: (e: TimelineEvent) => boolean) => events.findIndex(pred);
    const order = [
      firstAt((e) => e.kind === 'dhcp.offer'),
      firstAt((e) => e.kind === 'dhcp.ack'),
      firstAt((e) => e.kind === 'tftp.file' && /ipxe\.efi|snponly\.efi/.test(JSON.stringify(e.detail))),
      firstAt((e) => e.kind === 'http.script'),
      firstAt((e) => e.kind === 'http.kernel'),
      firstAt((e) => e.kind === 'http.initrd'),
      firstAt((e) => e.kind === 'booted'),
    ];
    assert.ok(order.every((i) => i >= 0), `missing steps in ${kinds.join(' ')}`);
    for (let i = 1; i < order.length; i++) assert.ok(order[i]! > order[i - 1]!, `steps out of order: ${kinds.join(' ')}`);
    for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.at)), `event without a time: ${JSON.stringify(e)}`);
  });
});
