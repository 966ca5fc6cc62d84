/**
 * Golden hosts and images as the service runs them: netroot's SSH identity, host-key pinning,
 * preflight/prepare, pulls as jobs, publish/rollback/retention, version removal. The pipeline
 * itself is exports/image and exports/golden; this is the adapter that stores and schedules.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  GoldenError, applyPrepare, ensureKeyPair, fetchHostKey, openSession, pinKey, planPrepare, preflight, unpinKey,
  type GoldenHost, type KeyPair, type PreflightReport, type PreparePlan, type SshIdentity,
} from '../../exports/golden/index.js';
import {
  MemoryPullLock, PolicyError, applyRetention, failInterruptedPulls, pullVersion, removeVersionTree, type ImageSettings,
} from '../../exports/image/index.js';
import { publishVersion, rollbackVersion } from '../../exports/image/lifecycle.js';
import { runCommand } from '../../exports/runner.js';
import type { Config } from '../config/schema.js';
import { AppError, ErrorCode, conflict, invalid, notFound } from '../errors.js';
import type { JobRunner } from '../jobs/runner.js';
import type { GoldenHostRecord, ImageRecord, JobRecord, Store } from '../store/types.js';
import { UniqueViolation } from '../store/types.js';
import { imageState, versionStore } from './adapters.js';
import { imageSettingsSchema, type ImageSettingsInput } from './schemas.js';
import { imageStateKind, stateMismatch } from '../registry/state-kind.js';

export interface ImageServiceDeps {
  store: Store;
  jobs: JobRunner;
  log: Logger;
  /** The export table depends on published versions. */
  onPublished: () => void;
  /** The HTTP port nodes report "booted" to (the bound one: config may say 0). */
  httpPort: () => number;
  /** Runs before retention decides (the boot events it reads must be written). */
  beforeRetention?: () => Promise<void>;
}

/** Golden-host failures are the peer's, not netroot's: 502 with the host named. */
function upstream(e: unknown): never {
  if (e instanceof GoldenError) throw new AppError(e.code === 'bad-input' ? ErrorCode.Invalid : ErrorCode.Upstream, e.message);
  throw e;
}

export class ImageService {
  private key: KeyPair | null = null;
  private readonly lock = new MemoryPullLock();
  readonly identity: SshIdentity;
  readonly imagesDir: string;

  constructor(
    private readonly config: Config,
    private readonly d: ImageServiceDeps,
  ) {
    const ssh = join(config.dataDir, 'ssh');
    this.identity = { privateKeyPath: join(ssh, 'id_ed25519'), knownHostsPath: join(ssh, 'known_hosts') };
    this.imagesDir = join(config.dataDir, 'images');
  }

  /** First start creates netroot's key pair. */
  async init(): Promise<void> {
    await mkdir(join(this.config.dataDir, 'ssh'), { recursive: true, mode: 0o700 });
    await mkdir(this.imagesDir, { recursive: true, mode: 0o755 });
    this.key = await ensureKeyPair(join(this.config.dataDir, 'ssh'));
  }

  /**
   * At start, before any pull: versions a dead service left `building` (kill -9, power loss) can
   * never finish. They become failed, their trees removed or kept per images.keepFailed.
   */
  async recover(): Promise<void> {
    const images = (await this.d.store.images.list()).map((i) => i.name);
    const done = await failInterruptedPulls(versionStore(this.d.store), images, { imagesDir: this.imagesDir, keepFailed: this.config.images.keepFailed });
    for (const v of done) {
      this.d.log.warn({ image: v.image, version: v.version, kept: v.kept, stoppedPids: v.stopped, error: v.error }, 'images: a pull the last run left unfinished is marked failed');
    }
  }

  publicKey(): KeyPair {
    if (!this.key) throw new AppError(ErrorCode.Unavailable, 'the SSH key pair is not ready');
    return this.key;
  }

  private async host(name: string): Promise<GoldenHostRecord> {
    const h = await this.d.store.goldenHosts.get(name);
    if (!h) throw notFound(`golden host ${JSON.stringify(name)}`);
    return h;
  }

  private static goldenHost(h: GoldenHostRecord): GoldenHost {
    return { name: h.name, address: h.address, port: h.port, user: h.user, sourcePath: h.sourcePath };
  }

  /** Registers a golden host and fetches its host key; the admin pins it after checking the fingerprint. */
  async addHost(input: { name: string; address: string; port: number; user: string; sourcePath: string }): Promise<GoldenHostRecord> {
    if (await this.d.store.goldenHosts.get(input.name)) throw conflict('name', `name: golden host ${input.name} exists already`);
    let key;
    try {
      key = await fetchHostKey(input.address, input.port);
    } catch (e) {
      throw new AppError(ErrorCode.Upstream, `golden host ${input.name}: cannot fetch its SSH host key from ${input.address}:${input.port}: ${(e as Error).message}`);
    }
    try {
      return await this.d.store.goldenHosts.create({ ...input, hostKey: `${key.type} ${key.blob.toString('base64')}`, fingerprint: key.fingerprint, pinned: false });
    } catch (e) {
      if (e instanceof UniqueViolation) throw conflict('name', `name: golden host ${input.name} exists already`);
      throw e;
    }
  }

  /** Pins the fetched key when the admin confirms its fingerprint. */
  async pinHost(name: string, fingerprint: string): Promise<GoldenHostRecord> {
    const h = await this.host(name);
    if (!h.hostKey || h.fingerprint !== fingerprint) {
      throw invalid('fingerprint', `does not match the key golden host ${name} presented (${h.fingerprint ?? 'none'})`);
    }
    await pinKey(this.identity.knownHostsPath, h.address, h.port, Buffer.from(h.hostKey.split(' ')[1]!, 'base64'));
    return this.d.store.goldenHosts.update(name, { pinned: true });
  }

  /** Fetches the host key again (after a deliberate re-key); pulls stop until it is pinned again. */
  async rekeyHost(name: string): Promise<GoldenHostRecord> {
    const h = await this.host(name);
    const key = await fetchHostKey(h.address, h.port).catch((e: Error) => {
      throw new AppError(ErrorCode.Upstream, `golden host ${name}: cannot fetch its SSH host key: ${e.message}`);
    });
    await unpinKey(this.identity.knownHostsPath, h.address, h.port);
    return this.d.store.goldenHosts.update(name, { hostKey: `${key.type} ${key.blob.toString('base64')}`, fingerprint: key.fingerprint, pinned: false });
  }

  async deleteHost(name: string): Promise<GoldenHostRecord> {
    const h = await this.host(name);
    const users = (await this.d.store.images.list()).filter((i) => i.host === name).map((i) => i.name);
    if (users.length) throw new AppError(ErrorCode.Conflict, `golden host ${name} is used by image(s) ${users.join(', ')}`);
    await unpinKey(this.identity.knownHostsPath, h.address, h.port);
    await this.d.store.goldenHosts.delete(name);
    return h;
  }

  private async session(name: string) {
    const h = await this.host(name);
    if (!h.pinned) throw new AppError(ErrorCode.Conflict, `golden host ${name}: its host key (${h.fingerprint}) is not pinned yet`);
    return openSession(ImageService.goldenHost(h), this.identity).catch(upstream);
  }

  async check(name: string): Promise<PreflightReport> {
    const s = await this.session(name);
    try {
      return await preflight(s).catch(upstream);
    } finally {
      s.close();
    }
  }

  /** The exact dracut configuration it would write; written only with apply. */
  async prepare(name: string, apply: boolean, drivers?: string[]): Promise<{ plan: PreparePlan; applied: boolean }> {
    const wanted = drivers ?? [...new Set((await this.d.store.images.list()).filter((i) => i.host === name).flatMap((i) => this.settings(i).drivers))];
    const s = await this.session(name);
    try {
      const plan = await planPrepare(s, wanted).catch(upstream);
      if (apply && plan.changes.length) await applyPrepare(s, plan).catch(upstream);
      return { plan, applied: apply && plan.changes.length > 0 };
    } finally {
      s.close();
    }
  }

  settings(i: ImageRecord): ImageSettingsInput {
    return imageSettingsSchema.parse(i.settings);
  }

  private async image(name: string): Promise<ImageRecord> {
    const i = await this.d.store.images.get(name);
    if (!i) throw notFound(`image ${JSON.stringify(name)}`);
    return i;
  }

  async createImage(input: { name: string; host: string | null; settings: ImageSettingsInput }): Promise<ImageRecord> {
    if (input.host !== null) await this.host(input.host).catch(() => {
      throw invalid('host', `unknown golden host ${JSON.stringify(input.host)}`);
    });
    try {
      return await this.d.store.images.create(input.name, input.host, input.settings);
    } catch (e) {
      if (e instanceof UniqueViolation) throw conflict('name', `name: image ${input.name} exists already`);
      throw e;
    }
  }

  async updateImage(name: string, patch: { host?: string | null; settings?: ImageSettingsInput }): Promise<ImageRecord> {
    const before = await this.image(name);
    if (patch.host) await this.host(patch.host).catch(() => {
      throw invalid('host', `unknown golden host ${JSON.stringify(patch.host)}`);
    });
    if (patch.settings && imageStateKind(patch.settings) !== imageStateKind(before.settings)) {
      // Its nodes' stateMode says the other thing (server/registry/state-kind.ts).
      const kind = imageStateKind(patch.settings);
      const odd = (await this.d.store.nodes.all()).filter((n) => n.image === name && stateMismatch(name, kind, n.stateMode) !== null);
      if (odd.length) {
        const list = odd.slice(0, 5).map((n) => n.fqdn).join(', ') + (odd.length > 5 ? ` and ${odd.length - 5} more` : '');
        // Not "change their stateMode first": that is refused while the image still says the
        // other thing. Its versions were built for one kind anyway (readonly-root is baked in).
        throw invalid('settings.state.kind', `${odd.length} node(s) use image ${name} with stateMode "${odd[0]!.stateMode}" (${list}), which the new state.kind "${kind}" does not serve; give them an image of that kind (PATCH image and stateMode together) or unset their image first`);
      }
    }
    return this.d.store.images.update(name, patch);
  }

  /** What the pipeline needs for this image, or an error naming what is missing. */
  private pipelineSettings(i: ImageRecord, host: GoldenHostRecord): ImageSettings {
    const s = this.settings(i);
    const server = this.config.boot.serverAddress;
    if (s.state.kind === 'diskless' && !server) {
      throw invalid('boot.serverAddress', 'set boot.serverAddress in the config: diskless images need the NFS server address for CLIENTSTATE');
    }
    return {
      name: i.name,
      host: host.name,
      excludes: s.excludes,
      rwtab: s.rwtab,
      statetab: s.statetab,
      kernelArgs: s.kernelArgs,
      drivers: s.drivers,
      state: s.state.kind === 'diskless' ? { kind: 'diskless', server: server!, stateExport: join(this.config.dataDir, 'state') } : { kind: 'local', rwLabel: s.state.rwLabel, stateLabel: s.state.stateLabel },
      hostKeys: s.hostKeys,
      selinux: s.selinux,
      initramfs: s.initramfs,
      ...(s.kernel ? { kernel: s.kernel } : {}),
    };
  }

  /**
   * Starts a pull job (one per image at a time). Unless forced, a golden host unchanged since the
   * version the pull would link to (same files, same settings) gives no new version: the job
   * succeeds with `unchanged: true` and that version.
   */
  async pull(name: string, by: string | null, opts: { force?: boolean } = {}): Promise<JobRecord> {
    const i = await this.image(name);
    if (!i.host) throw invalid('host', `image ${name} has no golden host`);
    const host = await this.host(i.host);
    if (!host.pinned) throw new AppError(ErrorCode.Conflict, `golden host ${host.name}: pin its host key (${host.fingerprint}) before pulling`);
    const settings = this.pipelineSettings(i, host);
    const release = await this.lock.tryAcquire(name);
    if (!release) throw new AppError(ErrorCode.Conflict, `a pull of image ${name} is already running`);
    const versions = versionStore(this.d.store);
    const ready = (await versions.list(name)).filter((v) => v.state === 'ready');
    const prev = i.activeVersion ?? ready[ready.length - 1]?.version ?? null;
    try {
      return await this.d.jobs.start('pull', `image:${name}`, by, async (ctx) => {
        try {
          ctx.log(`pull of ${name} from ${host.user}@${host.address}:${host.sourcePath}${prev ? `, linked to ${prev}` : ''}`);
          const rec = await pullVersion(
            {
              image: settings,
              host: ImageService.goldenHost(host),
              identity: this.identity,
              imagesDir: this.imagesDir,
              prev,
              store: versions,
              bootReport: this.config.boot.serverAddress ? { server: this.config.boot.serverAddress, port: this.d.httpPort() } : null,
              keepFailed: this.config.images.keepFailed,
              skipUnchanged: opts.force !== true,
              rsyncExtra: this.config.images.rsyncExtra,
              tools: {
                ...(this.config.images.dracut ? { dracut: this.config.images.dracut } : {}),
                ...(this.config.images.lsinitrd ? { lsinitrd: this.config.images.lsinitrd } : {}),
              },
            },
            { progress: (step, p) => ctx.progress(step, p), log: (l) => ctx.log(l), signal: ctx.signal },
          );
          // pullVersion has logged why nothing was built.
          if (rec.unchanged) return { version: rec.version, kernel: rec.kernel ?? null, unchanged: true };
          const size = await runCommand(['du', '-sb', join(this.imagesDir, name, rec.version)], { timeoutMs: 300_000 }).then(
            (r) => Number(r.stdout.split('\t')[0]),
            () => null,
          );
          if (size !== null) await this.d.store.versions.update(name, rec.version, { sizeBytes: size });
          ctx.log(`version ${rec.version} is ready (kernel ${rec.kernel ?? '?'}); publish it to boot nodes from it`);
          return { version: rec.version, kernel: rec.kernel ?? null, unchanged: false };
        } finally {
          await release();
        }
      });
    } catch (e) {
      await release();
      throw e;
    }
  }

  private policy<T>(f: () => Promise<T>): Promise<T> {
    return f().catch((e: unknown) => {
      if (e instanceof PolicyError) throw new AppError(ErrorCode.Conflict, e.message, (e as PolicyError & { field?: string }).field);
      throw e;
    });
  }

  async publish(name: string, version: string): Promise<ImageRecord> {
    await this.image(name);
    const change = await this.policy(() => publishVersion(versionStore(this.d.store), imageState(this.d.store), name, version));
    this.d.log.info({ image: name, ...change }, 'image version published');
    this.d.onPublished();
    await this.retain(name);
    return this.image(name);
  }

  async rollback(name: string, to?: string): Promise<ImageRecord> {
    await this.image(name);
    const change = await this.policy(() => rollbackVersion(versionStore(this.d.store), imageState(this.d.store), name, to));
    this.d.log.info({ image: name, ...change }, 'image rolled back');
    this.d.onPublished();
    return this.image(name);
  }

  /** Removes old versions past images.keep (never the active, a pinned or a last-booted one). */
  async retain(name: string): Promise<string[]> {
    const release = await this.lock.tryAcquire(name);
    if (!release) return []; // a pull runs: next publish will retain
    try {
      await this.d.beforeRetention?.();
      const r = await applyRetention(versionStore(this.d.store), imageState(this.d.store), this.imagesDir, name, this.config.images.keep);
      if (r.removed.length) this.d.log.info({ image: name, removed: r.removed }, 'retention removed old versions');
      for (const e of r.errors) this.d.log.error({ image: name, ...e }, 'retention could not remove a version');
      return r.removed;
    } finally {
      await release();
    }
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    const i = await this.image(name);
    const v = await this.d.store.versions.get(name, version);
    if (!v) throw notFound(`version ${name}/${version}`);
    if (i.activeVersion === version) throw new AppError(ErrorCode.Conflict, `${name}/${version} is the active version`);
    const pins = await imageState(this.d.store).pinnedVersions(name);
    if (pins.includes(version)) throw new AppError(ErrorCode.Conflict, `${name}/${version} is pinned by a node`);
    if (v.state === 'building') throw new AppError(ErrorCode.Conflict, `${name}/${version} is still being built`);
    await removeVersionTree(this.imagesDir, name, version);
    await this.d.store.versions.remove(name, version);
  }
}
