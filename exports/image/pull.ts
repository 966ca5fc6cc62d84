/**
 * pullVersion: one pull of an image from its golden host into a new version, as a function the
 * server's job runner calls with callbacks. Golden-host facts (a running autofs refuses the pull;
 * mounts that are not part of its root are excluded; loaded drivers are the default initramfs
 * drivers) -> rsync (--link-dest to the previous version) -> stateless steps -> kernel + initramfs
 * -> checks -> manifest -> ready. Any failure, abort
 * included, leaves the version `failed` (tree removed, or kept with keepFailed) and never touches
 * other versions, so the active one keeps serving. A service killed mid-pull leaves it `building`
 * until its next start, which fails it the same way (recover.ts).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { runCommand, type Runner } from '../runner.js';
import { openSession as defaultOpenSession, type GoldenSession } from '../golden/session.js';
import { rsyncArgv, parseProgress2, SourceListing, type Progress } from '../golden/rsync.js';
import type { GoldenHost, SshIdentity } from '../golden/types.js';
import { fingerprintSha256 } from '../golden/hostkey.js';
import { autofsProblem, readFacts, type GoldenFacts } from '../golden/facts.js';
import { foreignMounts, mountExcludes } from '../golden/mounts.js';
import { defaultDrivers, parseModulesDep } from './drivers.js';
import { readIn } from './stateless/rootfs.js';
import { makeStateless } from './stateless/make.js';
import { keyBlob } from './stateless/authkeys.js';
import { newVersionName, validateImageName, validateVersionName, versionPaths } from './names.js';
import { copyKernel, pickKernel } from './kernel.js';
import { checkListing, chrootBuilder, goldenHostBuilder, networkHandler, parseLsinitrd, type InitramfsBuilder, type ToolPaths } from './initramfs.js';
import { readManifest, sha256File, writeManifest } from './manifest.js';
import { removeVersionTree } from './tree.js';
import type { PullLock, VersionStore } from './store.js';
import type { ImageSettings, VersionRecord } from './types.js';

export type PullStep = 'rsync' | 'stateless' | 'kernel' | 'initramfs' | 'check' | 'manifest';

export interface PullHooks {
  /** Progress of a step: 0 as it begins (so a job shows the step running, not the last one
   * finished), then rsync its --info=progress2 numbers, every step 100 when done. */
  progress?: (step: PullStep, p: Progress) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PullOptions {
  image: ImageSettings;
  host: GoldenHost;
  identity: SshIdentity;
  imagesDir: string;
  /** Version to link against (normally the active one); null for a first pull. */
  prev: string | null;
  store: VersionStore;
  /** When given, pullVersion takes the image's lock itself (else the caller holds it). */
  lock?: PullLock;
  /** Where nodes report "booted" (netroot's HTTP address); null = no booted unit. */
  bootReport: { server: string; port: number } | null;
  /** Keep a failed version's partial tree for inspection (default: remove it). */
  keepFailed?: boolean;
  runner?: Runner;
  openSession?: (host: GoldenHost, id: SshIdentity) => Promise<GoldenSession>;
  /** dracut/lsinitrd paths (default from PATH, on the golden host or in the root). */
  tools?: ToolPaths;
  /** Extra rsync arguments (tests: --bwlimit). */
  rsyncExtra?: string[];
  /** Version name (default: a UTC timestamp). */
  version?: string;
  /**
   * When the golden tree and the settings are what `prev` was built from, build nothing and
   * return `prev` with unchanged: true (a nightly re-pull must not push real rollback targets out
   * of retention). The check is one rsync dry run against prev's root. Default false.
   */
  skipUnchanged?: boolean;
  now?: () => Date;
}

export class PullError extends Error {
  constructor(readonly image: string, readonly version: string, readonly step: PullStep | 'setup', override readonly cause: unknown) {
    super(`pull ${image}/${version} failed at ${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'PullError';
  }
}

export class PullBusyError extends Error {
  constructor(readonly image: string) {
    super(`image: a pull of ${image} is already running`);
    this.name = 'PullBusyError';
  }
}

const START: Progress = { percent: 0, bytes: 0, rate: 0 };
const DONE: Progress = { percent: 100, bytes: 0, rate: 0 };

/** Bumped when the pipeline's steps change what they make of the same tree: old versions are rebuilt. */
const PIPELINE_REVISION = 3;

/** What besides the tree decides a version's content. */
function settingsKey(o: PullOptions): string {
  const { name: _name, ...settings } = o.image;
  const key = JSON.stringify({ rev: PIPELINE_REVISION, settings, bootReport: o.bootReport, tools: o.tools ?? null, host: [o.host.address, o.host.sourcePath] });
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export type PullResult = VersionRecord & { unchanged: boolean };

/** The image's excludes, then one per golden-host mount that is not part of its root (mounts.ts). */
function copyExcludes(o: PullOptions, facts: GoldenFacts): string[] {
  return [...o.image.excludes, ...mountExcludes(facts.mounts, o.host.sourcePath)];
}

/** The image's drivers, or by default the golden host's loaded network and storage drivers that kver has. */
async function initramfsDrivers(o: PullOptions, facts: GoldenFacts, root: string, kver: string, log: (l: string) => void): Promise<string[]> {
  if (o.image.drivers.length > 0) return [...o.image.drivers];
  const dep = await readIn(root, `/lib/modules/${kver}/modules.dep`);
  if (dep === null) {
    log(`drivers: the image sets none and /lib/modules/${kver}/modules.dep is missing: only nfs and nfsv4 are added`);
    return [];
  }
  const drivers = defaultDrivers(facts.loadedModules, parseModulesDep(dep));
  log(`drivers: the image sets none, so ${o.host.name}'s loaded network and storage drivers: ${drivers.join(' ') || '(none)'}`);
  return drivers;
}

/** The public half of the key the pull authenticates with (the .pub beside it, else derived). */
async function ownPublicKey(id: SshIdentity, runner: Runner): Promise<string> {
  const pub = await readFile(`${id.privateKeyPath}.pub`, 'utf8').catch(() => null);
  if (pub?.trim()) return pub.trim();
  return (await runner(['ssh-keygen', '-y', '-f', id.privateKeyPath], { timeoutMs: 30_000 })).stdout.trim();
}

export async function pullVersion(o: PullOptions, hooks: PullHooks = {}): Promise<PullResult> {
  const image = validateImageName(o.image.name);
  if (o.prev !== null) validateVersionName(o.prev);
  const release = o.lock ? await o.lock.tryAcquire(image) : null;
  if (o.lock && !release) throw new PullBusyError(image);
  try {
    return await pullLocked(o, hooks, image);
  } finally {
    await release?.();
  }
}

/**
 * The previous version, when the golden tree and the settings are still what it was built from;
 * null when anything differs or cannot be told (then a normal pull follows).
 */
async function unchangedSince(o: PullOptions, hooks: PullHooks, image: string, versions: VersionRecord[], key: string): Promise<VersionRecord | null> {
  const prev = versions.find((v) => v.version === o.prev && v.state === 'ready');
  if (!prev) return null;
  const paths = versionPaths(o.imagesDir, image, prev.version);
  const m = await readManifest(paths.manifest);
  if (!m?.source.fingerprint || m.settingsKey !== key) return null;
  // The same excludes as a real pull, or the listing never matches; a running autofs is the full
  // pull's to refuse, with its reason.
  let facts: GoldenFacts;
  try {
    const s = await (o.openSession ?? defaultOpenSession)(o.host, o.identity);
    try {
      facts = await readFacts(s, hooks.signal);
    } finally {
      s.close();
    }
  } catch (e) {
    hooks.signal?.throwIfAborted();
    hooks.log?.(`could not read ${o.host.name}'s mounts (${(e as Error).message.split('\n')[0]}): pulling in full`);
    return null;
  }
  if (facts.autofs) return null;
  const listing = new SourceListing();
  const argv = rsyncArgv({ host: o.host, identity: o.identity, dest: paths.root, excludes: copyExcludes(o, facts), extra: o.rsyncExtra, listing: true, dryRun: true });
  try {
    await (o.runner ?? runCommand)(argv, { timeoutMs: 0, signal: hooks.signal, okCodes: [0, 24], onLine: (line) => void listing.add(line) });
  } catch (e) {
    hooks.signal?.throwIfAborted();
    hooks.log?.(`could not compare with ${prev.version} (${(e as Error).message.split('\n')[0]}): pulling in full`);
    return null;
  }
  return listing.count > 0 && listing.digest() === m.source.fingerprint ? prev : null;
}

async function pullLocked(o: PullOptions, hooks: PullHooks, image: string): Promise<PullResult> {
  const log = hooks.log ?? (() => undefined);
  const progress = hooks.progress ?? (() => undefined);
  const runner = o.runner ?? runCommand;
  const now = (o.now ?? (() => new Date()))();
  const key = settingsKey(o);
  const all = await o.store.list(image);
  if (o.skipUnchanged && o.prev !== null) {
    log(`comparing ${o.host.user}@${o.host.address}:${o.host.sourcePath} with version ${o.prev}`);
    const same = await unchangedSince(o, hooks, image, all, key);
    if (same) {
      progress('rsync', DONE);
      log(`the golden host and the image settings are unchanged since version ${same.version}: no new version (force a pull to build one anyway)`);
      return { ...same, unchanged: true };
    }
  }
  const existing = all.map((v) => v.version);
  const version = o.version !== undefined ? validateVersionName(o.version) : newVersionName(existing, now);
  const paths = versionPaths(o.imagesDir, image, version);
  const prevRoot = o.prev !== null ? versionPaths(o.imagesDir, image, o.prev).root : null;
  // Never adopt (and, on failure, delete) a directory the store does not know about.
  if (await stat(paths.dir).then(() => true, () => false)) throw new Error(`version: ${paths.dir} already exists on disk`);
  const rec: VersionRecord = { image, version, state: 'building', createdAt: now.toISOString() };
  await o.store.create(rec);
  let step: PullStep | 'setup' = 'setup';
  let session: GoldenSession | null = null;
  try {
    // Connect with ssh2 first: an unreachable or re-keyed host fails here with an error naming
    // it (OpenSSH under rsync would refuse too, but with a vaguer message).
    session = await (o.openSession ?? defaultOpenSession)(o.host, o.identity);
    const facts = await readFacts(session, hooks.signal);
    if (facts.autofs) throw new Error(autofsProblem(o.host.name));
    const foreign = foreignMounts(facts.mounts, o.host.sourcePath);
    if (foreign.length) log(`not copied, not part of ${o.host.name}'s root: ${foreign.map((f) => `${f.rel} (${f.why})`).join(', ')}`);
    await mkdir(paths.root, { recursive: true, mode: 0o755 });
    await mkdir(paths.boot, { recursive: true, mode: 0o755 });

    session.close(); // idle during a long rsync; reopened for the golden-host dracut step
    step = 'rsync';
    progress(step, START);
    const linkDest = prevRoot && (await stat(prevRoot).then((s) => s.isDirectory(), () => false)) ? prevRoot : null;
    const source = new SourceListing();
    const argv = rsyncArgv({ host: o.host, identity: o.identity, dest: paths.root, linkDest, excludes: copyExcludes(o, facts), extra: o.rsyncExtra, listing: true });
    log(`rsync from ${o.host.user}@${o.host.address}:${o.host.sourcePath}${linkDest ? ` (unchanged files linked to ${o.prev})` : ''}`);
    // 24 = "some files vanished before they could be transferred": normal on a live system.
    await runner(argv, {
      timeoutMs: 0, signal: hooks.signal, okCodes: [0, 24],
      onLine: (line) => {
        if (source.add(line)) return;
        const p = parseProgress2(line);
        if (p) progress('rsync', p);
        else log(line);
      },
    });
    progress('rsync', DONE);

    step = 'stateless';
    progress(step, START);
    hooks.signal?.throwIfAborted();
    const ownKey = await ownPublicKey(o.identity, runner);
    const reports = await makeStateless(paths.root, {
      state: o.image.state, hostKeys: o.image.hostKeys, selinux: o.image.selinux, rwtab: o.image.rwtab, statetab: o.image.statetab,
      bootReport: o.bootReport, removeKeys: [ownKey],
    });
    for (const r of reports) {
      if (r.note) log(r.note);
      if (!r.changed.length) continue;
      if (r.step === 'netroot-key') log(`removed netroot's own SSH key (${fingerprintSha256(Buffer.from(keyBlob(ownKey), 'base64'))}) from ${r.changed.join(' ')}: it must not log in to the nodes`);
      else log(`stateless ${r.step}: ${r.changed.join(' ')}`);
    }
    progress('stateless', DONE);

    step = 'kernel';
    progress(step, START);
    hooks.signal?.throwIfAborted();
    const kver = await pickKernel(paths.root, o.image.kernel);
    await copyKernel(paths.root, kver, paths.kernel);
    log(`kernel ${kver}`);
    progress('kernel', DONE);

    step = 'initramfs';
    progress(step, START);
    hooks.signal?.throwIfAborted();
    const drivers = await initramfsDrivers(o, facts, paths.root, kver, log);
    let builder: InitramfsBuilder;
    if (o.image.initramfs === 'golden') {
      session.close();
      session = await (o.openSession ?? defaultOpenSession)(o.host, o.identity);
      builder = goldenHostBuilder(session, o.tools);
    } else {
      builder = chrootBuilder(runner, o.tools);
    }
    const listingText = await builder.build({ root: paths.root, kver, drivers, out: paths.initramfs, log, signal: hooks.signal });
    progress('initramfs', DONE);

    step = 'check';
    progress(step, START);
    const listing = parseLsinitrd(listingText);
    const problems = checkListing(listing, kver);
    for (const [what, p] of [['kernel', paths.kernel], ['initramfs', paths.initramfs]] as const) {
      const s = await stat(p).catch(() => null);
      if (!s || s.size === 0) problems.push(`${what}: ${p} missing or empty`);
      else if ((s.mode & 0o004) === 0) problems.push(`${what}: ${p} is not world-readable`);
    }
    if (problems.length) throw new Error(problems.join('; '));
    log(`initramfs network: ${networkHandler(listing)} (dracut modules: ${listing.dracutModules.join(' ')})`);
    progress('check', DONE);

    step = 'manifest';
    progress(step, START);
    await writeManifest(paths.manifest, {
      image, version, createdAt: rec.createdAt, kernel: kver,
      source: { host: o.host.name, address: o.host.address, path: o.host.sourcePath, fingerprint: source.digest() },
      settingsKey: key,
      previous: linkDest ? o.prev : null,
      initramfs: { builtOn: o.image.initramfs, dracutModules: listing.dracutModules, drivers },
      files: { 'boot/vmlinuz': await sha256File(paths.kernel), 'boot/initramfs.img': await sha256File(paths.initramfs) },
    });
    progress('manifest', DONE);

    session.close();
    session = null;
    await o.store.update(image, version, { state: 'ready', kernel: kver });
    log(`version ${version} ready`);
    return { ...rec, state: 'ready', kernel: kver, unchanged: false };
  } catch (e) {
    session?.close();
    const err = new PullError(image, version, step, e);
    const kept = o.keepFailed === true;
    if (!kept) await removeVersionTree(o.imagesDir, image, version).catch(() => undefined);
    await o.store.update(image, version, { state: 'failed', error: err.message, kept });
    log(err.message);
    throw err;
  }
}
