/**
 * Pull phase: a real sshd serves a fixture root as the golden host; each round changes a file on
 * it and starts a forced pull (rsync, stateless, kernel, initramfs, check, manifest), and the
 * service is killed at a random moment of the job, or once the job reports a chosen step. After
 * the restart no version may be `building`, every `ready` one must have a complete tree whose
 * files match its manifest, every `failed` one no tree (or a kept one with images.keepFailed,
 * switched on at every fourth restart), no directory under images/ may be unknown to the
 * database, the active version must still serve its kernel and initramfs over HTTP, nothing
 * may still write into the images tree or be left in the golden host's /tmp, and a new pull must
 * succeed (it is then published, so retention runs and the active version moves every round).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FIXTURE_KERNEL, buildFixtureRoot } from '../../test/fixtures/golden/build-root.js';
import { startSshd } from '../../test/integration/golden/sshd.js';
import { processesIn } from '../../exports/image/recover.js';
import { Tally, some, type PhaseReport } from './checks.js';
import { Lab, checkAborted, isAborted, onStop, rand, sleep } from './lab.js';
import { checkNfsAgrees } from './nfs-checks.js';
import { processesNaming, waitGone } from './procs.js';

const NETWORKS = ['10.63.0.0/16'];
const NODE = { mac: '02:63:00:00:00:01', fqdn: 'n1.pull.test', ipv4: '10.63.0.1', image: 'fixture' };
const STEPS = ['setup', 'rsync', 'stateless', 'kernel', 'initramfs', 'check', 'manifest'];
/**
 * Where targeted kills aim, in turn. rsync, stateless, initramfs and manifest (hashing the
 * kernel) last long enough to be seen in the job's step; the kernel copy and the end of the job
 * take milliseconds, so those kills follow the files written (boot/vmlinuz appearing; the
 * manifest renamed into place: the version about to be marked ready, its size measured).
 * `check` (a few stat calls) is not aimed at.
 */
const TARGETS = ['setup', 'rsync', 'stateless', 'kernel', 'initramfs', 'manifest', 'finish'];
const FILE_OF: Record<string, [after: string, rel: string]> = {
  kernel: ['stateless', 'boot/vmlinuz'],
  finish: ['initramfs', 'boot/manifest.json'],
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Version {
  version: string;
  state: string;
  kept?: boolean;
  error?: string;
}

/** A real dracut takes tens of seconds, the fixture's stand-in milliseconds: this one waits
 * 0.3-1.5 s first, and logs the file it writes on the golden host. */
async function slowDracut(dir: string, fixture: string): Promise<{ path: string; outputs: () => string[] }> {
  const path = join(dir, 'slow-dracut');
  const log = join(dir, 'slow-dracut.log');
  await writeFile(log, '');
  await writeFile(path, [
    '#!/bin/sh',
    `case "$1" in --version) exec '${fixture}/usr/bin/dracut' "$@" ;; esac`,
    'prev=; for a in "$@"; do [ "$prev" = -f ] && echo "$a" >> ' + `'${log}'; prev=$a; done`,
    "n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' '); ms=$((300 + n % 1200))",
    'sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"',
    `exec '${fixture}/usr/bin/dracut' "$@"`,
    '',
  ].join('\n'));
  await chmod(path, 0o755);
  return { path, outputs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

export async function pullPhase(rounds: number): Promise<PhaseReport> {
  const t0 = Date.now();
  const t = new Tally();
  let keepFailed = false;
  let dracut = { path: '', outputs: (): string[] => [] };
  let fixture = '';
  const lab = await Lab.create({
    name: 'pull',
    exportfsDelayMs: 0,
    nodeNetworks: NETWORKS,
    extraConfig: () => ({
      boot: { serverAddress: '127.0.0.1' },
      images: { keep: 2, keepFailed, dracut: dracut.path, lsinitrd: join(fixture, 'usr/bin/lsinitrd'), rsyncExtra: ['--bwlimit=4096'] },
    }),
  });
  fixture = join(lab.dir, 'golden-root');
  const imagesDir = join(lab.dataDir, 'images');
  const figures = { versionsReady: 0, versionsFailed: 0, keptFailed: 0, pullsAfterRestart: 0, golden: '' };
  // The golden host's temp initramfs files this run made (removed at the end, whatever happened).
  onStop(async () => {
    for (const f of dracut.outputs()) rmSync(f, { force: true });
  });
  try {
    await buildFixtureRoot(fixture);
    // A kernel of a real one's size (the fixture's is a line of text): its copy takes a moment.
    writeFileSync(join(fixture, 'boot', `vmlinuz-${FIXTURE_KERNEL}`), randomBytes(12 << 20));
    dracut = await slowDracut(lab.dir, fixture);
    await lab.start();
    const sshd = await startSshd(join(lab.dir, 'sshd'), (await lab.api('GET', '/ssh/key')).body.publicKey);
    onStop(() => sshd.stop());
    if (isAborted()) {
      await sshd.stop(); // cleanup may have run while it started
      checkAborted();
    }
    const host = await lab.api('POST', '/golden-hosts', { name: 'g1', address: '127.0.0.1', port: sshd.port, sourcePath: fixture });
    if (host.status !== 201) throw new Error(`golden host: ${host.status} ${JSON.stringify(host.body)}`);
    await lab.api('POST', '/golden-hosts/g1/pin', { fingerprint: host.body.fingerprint });
    if ((await lab.api('POST', '/images', { name: 'fixture', host: 'g1' })).status !== 201) throw new Error('image not created');
    const w0 = Date.now();
    const first = await pullAndWait(lab);
    if (first.state !== 'succeeded') throw new Error(`first pull: ${first.state} ${first.error}\n${first.log}`);
    let pullMs = Date.now() - w0;
    figures.golden = `fixture root, pull of a changed tree ${pullMs} ms`;
    await lab.api('POST', '/images/fixture/publish', { version: first.result.version });
    if ((await lab.api('POST', '/nodes', NODE)).status !== 201) throw new Error('node not created');

    let lastData = '';
    for (let round = 1; round <= rounds; round++) {
      t.round = round;
      if (lastData) rmSync(lastData, { force: true });
      lastData = join(fixture, 'usr/share/data', `round-${round}.bin`);
      writeFileSync(lastData, randomBytes(rand(2, 6) << 20));
      const before = new Set((await versions(lab)).map((v) => v.version));
      const started = await lab.api('POST', '/images/fixture/pull', { force: true });
      if (started.status !== 202) throw new Error(`pull: ${started.status} ${JSON.stringify(started.body)}`);
      const id = started.body.job.id as number;
      // Odd rounds: once the job reports a chosen step; even rounds: at a random moment.
      const target = round % 2 ? TARGETS[Math.floor(round / 2) % TARGETS.length]! : null;
      if (target === 'setup') await sleep(rand(0, 150));
      else if (target && FILE_OF[target]) await untilFile(lab, id, join(imagesDir, 'fixture'), before, ...FILE_OF[target]!);
      else if (target) await untilStep(lab, id, target);
      else await sleep(rand(0, pullMs));
      const k = await lab.kill();
      t.check('the service was running at the kill', k.wasRunning);

      keepFailed = round % 4 === 0;
      await lab.start();
      await lab.jobsSettled();
      await lab.nfsSettled();
      const orphans = await lab.reapOrphans(60_000);
      t.check('children of the killed service ended (or were stopped by netroot)', orphans.length === 0, () => JSON.stringify(orphans));

      const job = (await lab.api('GET', `/jobs/${id}`)).body;
      const all = await versions(lab);
      const made = all.filter((v) => !before.has(v.version));
      let where = job.state === 'succeeded' ? 'after the job succeeded' : (job.step ?? 'setup');
      if (job.state !== 'succeeded' && made[0]?.state === 'ready') where = 'after manifest: version ready, job finishing';
      t.kill(where);
      t.check('the killed pull\'s job is failed (or ended before the kill)', ['failed', 'succeeded'].includes(job.state), () => `${job.state} ${job.error ?? ''}`);
      await checkVersions(lab, t, all, imagesDir);
      // The golden host's dracut runs on after the kill: judged once nothing there names its file.
      const outs = dracut.outputs();
      const still = await waitGone(processesNaming(outs), 30_000);
      t.check('golden host: its dracut ended after the kill', still.length === 0, () => JSON.stringify(still));
      const leftovers = outs.filter((f) => existsSync(f));
      t.check("golden host: no temp initramfs left in /tmp", leftovers.length === 0, () => `left ${some(leftovers)}`);
      for (const f of leftovers) rmSync(f, { force: true });
      await checkNfsAgrees(lab, t, NETWORKS);

      // A new pull works after the crash; published, it becomes the version served next round.
      const a0 = Date.now();
      const again = await pullAndWait(lab);
      // The next random kill is spread over a pull as long as this one (a forced re-pull).
      if (again.state === 'succeeded') pullMs = Date.now() - a0;
      figures.pullsAfterRestart++;
      if (t.check('a new pull after the restart succeeds', again.state === 'succeeded', () => `${again.state}: ${again.error}`)) {
        const pub = await lab.api('POST', '/images/fixture/publish', { version: again.result.version });
        t.check('its version publishes', pub.status === 200, () => JSON.stringify(pub.body));
      }
      await checkVersions(lab, t, await versions(lab), imagesDir);
      const madeState = made.map((v) => `${v.version} ${v.state}${v.kept ? ' (kept)' : ''}`).join(', ') || 'no version made';
      if (made[0]?.state === 'ready') figures.versionsReady++;
      if (made[0]?.state === 'failed') figures.versionsFailed++;
      if (made[0]?.kept) figures.keptFailed++;
      t.note(`killed ${target ? `at step ${target}` : 'at random'}: job ${job.state} at ${where}; ${madeState}; keepFailed=${keepFailed}; orphans ${k.orphans.map((o) => o.cmd.split(' ')[0]).join(',') || 'none'}`);
    }
  } finally {
    await lab.stop();
  }
  return t.report('pull', rounds, Math.round((Date.now() - t0) / 1000), figures, await lab.configFile().catch(() => null));
}

async function versions(lab: Lab): Promise<Version[]> {
  return (await lab.api('GET', '/images/fixture/versions')).body.items;
}

async function pullAndWait(lab: Lab): Promise<any> {
  const r = await lab.api('POST', '/images/fixture/pull', { force: true });
  if (r.status !== 202) return { state: `not started (${r.status})`, error: JSON.stringify(r.body) };
  for (;;) {
    const j = (await lab.api('GET', `/jobs/${r.body.job.id}`)).body;
    if (!['queued', 'running'].includes(j.state)) return j;
    await sleep(100);
  }
}

/** Polls the job until it reports step (or is past it, or has ended), then (linger) a few ms more. */
async function untilStep(lab: Lab, id: number, step: string, linger = true): Promise<void> {
  const at = STEPS.indexOf(step);
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const j = (await lab.api('GET', `/jobs/${id}`)).body;
    if (!['queued', 'running'].includes(j.state) || STEPS.indexOf(j.step ?? 'setup') >= at) break;
    await sleep(5);
  }
  if (linger) await sleep(rand(0, 10));
}

/**
 * Waits (job polled over HTTP) until the step before `after` is reported, then spins on the new
 * version's tree until rel appears: the steps aimed at this way last milliseconds, shorter than
 * one poll. The spin is bounded (10 s) and blocks nothing but this process.
 */
async function untilFile(lab: Lab, id: number, dir: string, before: Set<string>, after: string, rel: string): Promise<void> {
  await untilStep(lab, id, after, false);
  const fresh = (await readdir(dir)).filter((v) => !before.has(v));
  if (fresh.length !== 1) return;
  const path = join(dir, fresh[0]!, rel);
  const end = Date.now() + 10_000;
  while (!existsSync(path) && Date.now() < end) {
    /* spin */
  }
}

/** Versions against the tree on disk and what the service serves. */
async function checkVersions(lab: Lab, t: Tally, all: Version[], imagesDir: string): Promise<void> {
  const building = all.filter((v) => v.state === 'building').map((v) => v.version);
  t.check('no version is building', building.length === 0, () => some(building));
  const dir = join(imagesDir, 'fixture');
  for (const v of all.filter((x) => x.state === 'ready')) {
    const vd = join(dir, v.version);
    const m = await readFile(join(vd, 'boot/manifest.json'), 'utf8').then(JSON.parse, () => null);
    const problems: string[] = [];
    if (!m) problems.push('no manifest');
    if (!existsSync(join(vd, 'root/etc'))) problems.push('no root tree');
    for (const f of ['boot/vmlinuz', 'boot/initramfs.img']) {
      if (!existsSync(join(vd, f))) problems.push(`no ${f}`);
      else if (m && m.files?.[f]?.sha256 !== sha(readFileSync(join(vd, f)))) problems.push(`${f} differs from its manifest`);
    }
    const boot = existsSync(join(vd, 'boot')) ? (await readdir(join(vd, 'boot'))).sort() : [];
    if (boot.join(',') !== 'initramfs.img,manifest.json,vmlinuz') problems.push(`boot/ holds ${boot.join(',')}`);
    t.check('every ready version has a complete tree', problems.length === 0, () => `${v.version}: ${problems.join('; ')}`);
  }
  for (const v of all.filter((x) => x.state === 'failed')) {
    const has = existsSync(join(dir, v.version));
    t.check('every failed version has no tree, or a kept one', !has || v.kept === true, () => `${v.version}: tree on disk, kept=${v.kept}`);
  }
  const known = new Set(all.map((v) => v.version));
  const unknown = (await readdir(dir)).filter((n) => !known.has(n));
  const otherImages = (await readdir(imagesDir)).filter((n) => n !== 'fixture');
  t.check('no directory under images/ the database does not know', unknown.length + otherImages.length === 0, () => `fixture/${some(unknown)}; images/${some(otherImages)}`);
  const writers = await processesIn(dir);
  t.check('nothing writes into the images tree', writers.length === 0, () => some(writers));

  const active = (await lab.api('GET', '/images/fixture')).body.activeVersion as string;
  const m = JSON.parse(readFileSync(join(dir, active, 'boot/manifest.json'), 'utf8'));
  for (const [url, f] of [['vmlinuz', 'boot/vmlinuz'], ['initrd.img', 'boot/initramfs.img']] as const) {
    const res = await fetch(`${lab.nr!.url}/boot/${NODE.mac}/${active}/${url}`);
    const body = Buffer.from(await res.arrayBuffer());
    t.check(`the active version serves its ${url} over HTTP (sha256 of its manifest)`, res.status === 200 && sha(body) === m.files[f].sha256, () =>
      `${active}: ${res.status}, ${body.length} bytes`);
  }
}
