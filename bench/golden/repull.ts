/**
 * Benchmark: re-pull of an unchanged root (many small files) through netroot's pipeline against
 * plain rsync of the same tree over the same sshd: (a) updating an in-sync copy, (b) a full copy.
 * Two re-pulls are timed: the default one (skipUnchanged: one rsync dry run against the last
 * version finds nothing changed, no new version), and a forced one (rsync --link-dest into a new
 * version + stateless + fake dracut + checks + manifest). Reports the time ratios and the disk
 * growth of each.
 *
 *   node dist/bench/golden/repull.js [totalMiB=256] [files=20000] [runs=3]
 * Bounded: at most 1024 MiB, 100000 files, 5 runs. Needs root, sshd, rsync. Not a test.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtureRoot } from '../../test/fixtures/golden/build-root.js';
import { startSshd } from '../../test/integration/golden/sshd.js';
import { ensureKeyPair, fetchHostKey, pinKey, sshCommand } from '../../exports/golden/index.js';
import { MemoryVersionStore, pullVersion, versionPaths, type ImageSettings } from '../../exports/image/index.js';
import { runCommand } from '../../exports/runner.js';

const totalMiB = Math.min(Number(process.argv[2] ?? 256), 1024);
const files = Math.min(Number(process.argv[3] ?? 20000), 100000);
const runs = Math.min(Number(process.argv[4] ?? 3), 5);

async function duKiB(...paths: string[]): Promise<number> {
  // du counts a hard-linked inode once across all its arguments.
  const out = (await runCommand(['du', '-s', '-k', '-c', ...paths], { timeoutMs: 0 })).stdout.trim().split('\n');
  return Number(out[out.length - 1]!.split(/\s+/)[0]);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'netroot-bench-golden-'));
  const sshdDir = join(tmp, 'sshd');
  let stop: (() => Promise<void>) | null = null;
  try {
    const src = join(tmp, 'src');
    await buildFixtureRoot(src);
    const per = Math.max(1, Math.floor((totalMiB << 20) / files));
    const blob = Buffer.alloc(per, 0x61);
    for (let i = 0; i < files; i++) {
      const d = join(src, 'usr/share/bench', String(Math.floor(i / 500)));
      if (i % 500 === 0) await mkdir(d, { recursive: true });
      blob.writeUInt32LE(i, 0); // distinct content per file
      await writeFile(join(d, `f${i}`), blob);
    }
    const kp = await ensureKeyPair(join(tmp, 'key'));
    const sshd = await startSshd(sshdDir, kp.publicKey);
    stop = sshd.stop;
    const identity = { privateKeyPath: kp.privateKeyPath, knownHostsPath: join(tmp, 'known_hosts') };
    await pinKey(identity.knownHostsPath, '127.0.0.1', sshd.port, (await fetchHostKey('127.0.0.1', sshd.port)).blob);
    const host = { name: 'bench', address: '127.0.0.1', port: sshd.port, user: 'root', sourcePath: src };
    const image: ImageSettings = {
      name: 'bench', host: 'bench', excludes: [], rwtab: [], statetab: [], kernelArgs: '', drivers: [],
      state: { kind: 'diskless', server: '10.0.0.1', stateExport: '/state' }, hostKeys: 'keep', initramfs: 'golden',
    };
    const imagesDir = join(tmp, 'images');
    const store = new MemoryVersionStore();
    const stepS: Record<string, number[]> = {};
    const pull = async (version: string, prev: string | null, skipUnchanged = false) => {
      let last = process.hrtime.bigint();
      const seen = new Set<string>();
      return pullVersion({
        image, host, identity, imagesDir, prev, store, bootReport: null, version, skipUnchanged,
        tools: { dracut: join(src, 'usr/bin/dracut'), lsinitrd: join(src, 'usr/bin/lsinitrd') },
      }, {
        progress: (step, p) => {
          if (skipUnchanged) return;
          if (p.percent !== 100 || seen.has(step) || (step === 'rsync' && p.bytes !== 0)) return;
          seen.add(step);
          const now = process.hrtime.bigint();
          (stepS[step] ??= []).push(Number(now - last) / 1e9);
          last = now;
        },
      });
    };
    const first = await timed(() => pull('v0', null));
    const v0 = versionPaths(imagesDir, 'bench', 'v0').root;
    const rootKiB = await duKiB(v0);

    const e = sshCommand(host, identity).join(' ');
    const plain = (dest: string) => runCommand(['rsync', '-aHAX', '--numeric-ids', '--delete', '-e', e, `root@127.0.0.1:${src}/`, `${dest}/`], { timeoutMs: 0 });
    const copy = join(tmp, 'plain');
    await plain(copy);

    const repull: number[] = [];
    const skip: number[] = [];
    let skipGrowthKiB = 0;
    const update: number[] = [];
    const full: number[] = [];
    let growthKiB = 0;
    for (let r = 1; r <= runs; r++) {
      const beforeSkip = await duKiB(imagesDir);
      skip.push(await timed(async () => {
        const res = await pull(`s${r}`, `v${r - 1}`, true);
        if (!res.unchanged) throw new Error('the unchanged tree was not recognised as unchanged');
      }));
      skipGrowthKiB = (await duKiB(imagesDir)) - beforeSkip;
      repull.push(await timed(() => pull(`v${r}`, `v${r - 1}`)));
      const vPrev = versionPaths(imagesDir, 'bench', `v${r - 1}`).root;
      const vNew = versionPaths(imagesDir, 'bench', `v${r}`).root;
      growthKiB = (await duKiB(vPrev, vNew)) - (await duKiB(vPrev));
      update.push(await timed(() => plain(copy)));
      const fresh = join(tmp, `full${r}`);
      full.push(await timed(() => plain(fresh)));
      await rm(fresh, { recursive: true, force: true });
      // Keep at most two versions on disk.
      if (r >= 2) await rm(versionPaths(imagesDir, 'bench', `v${r - 2}`).dir, { recursive: true, force: true });
    }
    const res = {
      root: { MiB: Math.round(rootKiB / 1024), files },
      firstPullS: +first.toFixed(2),
      repullUnchangedS: +median(skip).toFixed(2),
      ratioUnchangedVsUpdate: +(median(skip) / median(update)).toFixed(2),
      unchangedDiskGrowthKiB: skipGrowthKiB,
      repullS: +median(repull).toFixed(2),
      plainRsyncUpdateS: +median(update).toFixed(2),
      plainRsyncFullCopyS: +median(full).toFixed(2),
      ratioVsUpdate: +(median(repull) / median(update)).toFixed(2),
      ratioVsFullCopy: +(median(repull) / median(full)).toFixed(2),
      repullStepsS: Object.fromEntries(Object.entries(stepS).map(([k, v]) => [k, +median(v.slice(1)).toFixed(2)])),
      ratioRsyncStepVsUpdate: +(median(stepS.rsync!.slice(1)) / median(update)).toFixed(2),
      diskGrowthKiB: growthKiB,
      diskGrowthPct: +((100 * growthKiB) / rootKiB).toFixed(3),
      runs,
    };
    console.log(JSON.stringify(res, null, 2));
  } finally {
    await stop?.();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
