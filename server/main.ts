/**
 * Composition root: builds every part from the config and wires them together. The only place
 * that knows all of them; `netroot serve` and the tests start the service through startService.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { createApp } from './api/app.js';
import { TokenService } from './auth/tokens.js';
import { BootRecorder } from './events/recorder.js';
import { Health } from './health.js';
import { NodeRegistry } from './registry/nodes.js';
import { createAddresses } from './registry/addresses.js';
import { openSqliteStore } from './store/sqlite/index.js';
import type { Store } from './store/types.js';
import { VERSION } from './version.js';
import { storeDirectory } from './boot/directory.js';
import { createDhcp, dhcpOptions } from './wiring/dhcp.js';
import { changedSections, restartNeeded, type ReloadResult } from './reload.js';
import { ConfigError } from './config/load.js';
import { route } from './api/route.js';
import { AppError, ErrorCode } from './errors.js';
import { createNfs } from './wiring/nfs.js';
import { createBoot } from './wiring/boot.js';
import { JobRunner } from './jobs/runner.js';
import { ImageService } from './images/service.js';
import { imageRoutes } from './api/routes/images.js';
import { Metrics } from './metrics.js';
import { prepareDataDir } from './data-dir.js';
import type { RequestHandler } from 'express';

const metricsHandler = (m: Metrics): RequestHandler => (req, res, next) => {
  if (req.method !== 'GET' || req.path !== '/') return next();
  m.text().then((t) => res.type(m.registry.contentType).send(t), next);
};
import { fileURLToPath } from 'node:url';

/** The web UI's files (web/ at the top of the project; compiled code runs from dist/server). */
const WEB_DIR = fileURLToPath(new URL('../../web', import.meta.url));

export interface Service {
  config: Config;
  store: Store;
  registry: NodeRegistry;
  recorder: BootRecorder;
  tokens: TokenService;
  /** http://host:port of the HTTP server (API, boot files, UI). */
  url: string;
  /** Re-reads the config and applies what can change live; a bad config is refused (ConfigError). */
  reload(): Promise<ReloadResult>;
  close(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  /** Reads the configuration again (for reload); throws ConfigError naming the field. */
  loadConfig?: () => Config;
  /** Called once, on first start, with the admin token's secret (netroot keeps only its hash). */
  onAdminToken?: (secret: string) => void;
}

export async function startService(initial: Config, opts: StartOptions): Promise<Service> {
  let config = initial;
  const { log } = opts;
  prepareDataDir(config.dataDir, log);
  const store = openSqliteStore(join(config.dataDir, 'netroot.db'));
  const closers: (() => Promise<void>)[] = [() => store.close()];
  const close = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
    }
  };
  try {
    const tokens = new TokenService(store);
    const addresses = createAddresses(config, { store, log });
    const registry = new NodeRegistry(store, { addressProblem: addresses.problem });
    registry.onChange(addresses.changed);
    const ev = config.events;
    const recorder = new BootRecorder(store, log, {
      maxPerNode: ev.maxPerNode,
      maxAgeDays: ev.maxAgeDays,
      discoveredMax: ev.discoveredMax,
      discoveredMaxAgeDays: ev.discoveredMaxAgeDays,
      securityMax: ev.securityMax,
      eventsPerMacBurst: ev.perMacPerMin,
      eventsPerMacPerMin: ev.perMacPerMin,
      discoveriesPerSourceBurst: ev.discoveriesPerSourcePerMin,
      discoveriesPerSourcePerMin: ev.discoveriesPerSourcePerMin,
    });
    closers.push(() => recorder.close());
    await recorder.prune();
    const health = new Health();
    health.register('store', async () => {
      await store.ping();
      return { status: 'ok', kind: store.kind };
    });
    health.register('http', () => ({ status: 'ok', listen: `${config.http.listen}:${config.http.port}` }));
    health.register('addresses', addresses.health);
    await addresses.report();

    const admin = await tokens.bootstrap();
    if (admin) {
      log.warn('created the initial admin API token');
      opts.onAdminToken?.(admin);
    }

    let boundPort = config.http.port;
    const metrics = new Metrics();
    metrics.follow(recorder.bus, store);
    metrics.counterFn('netroot_recorder_dropped_total', 'Events and discoveries not recorded, by limit reached', ['reason'], () =>
      Object.entries(recorder.dropped).map(([reason, value]) => ({ labels: { reason }, value })),
    );
    metrics.gaugeFn('netroot_discovered_macs', 'Unregistered MACs in the discovered list', [], async (set) => set({}, (await store.discovered.list(1, 0)).total));
    metrics.gaugeFn('netroot_nodes', 'Registered nodes', [], async (set) => set({}, await store.nodes.count()));

    const directory = storeDirectory(store, { imagesDir: join(config.dataDir, 'images') });
    const dhcp = createDhcp(config, { store, directory, events: recorder.sink, discoveries: recorder.discovery, log, health, metrics });
    const boot = createBoot(config, {
      store, registry, directory, events: recorder.sink, discoveries: recorder.discovery, security: recorder.securitySink, log, health, metrics, httpPort: () => boundPort,
    });
    closers.push(() => boot.close());
    const nfs = createNfs(config, { store, registry, log, health, metrics });
    closers.push(() => nfs.close());
    // Before anything is served: a directory no node owns now was left by the last run.
    await nfs.recover().catch((err: unknown) => log.error({ err }, 'nfs: could not look for state directories the last run left'));
    const jobs = new JobRunner(store, log.child({ part: 'jobs' }));
    await jobs.recover();
    closers.push(() => jobs.close());
    const images = new ImageService(config, {
      store,
      jobs,
      log: log.child({ part: 'images' }),
      onPublished: () => nfs.schedule(),
      httpPort: () => boundPort,
      // Retention reads which versions nodes fetched and run from the timeline: write what is queued first.
      beforeRetention: () => recorder.flush(),
    });
    let sshProblem: string | null = null;
    await images.init().catch((err: unknown) => {
      sshProblem = `SSH key pair: ${(err as Error).message}`;
      log.error({ err }, 'images: could not create netroot\'s SSH key pair; golden-host pulls are unavailable');
    });
    await images.recover().catch((err: unknown) => log.error({ err }, 'images: could not clear the pulls the last run left unfinished'));
    health.register('golden', async () => {
      if (sshProblem) return { status: 'degraded', detail: sshProblem };
      const hosts = await store.goldenHosts.list();
      const unpinned = hosts.filter((h) => !h.pinned).map((h) => h.name);
      return { status: 'ok', hosts: hosts.length, jobsRunning: jobs.active, ...(unpinned.length ? { detail: `host key not pinned: ${unpinned.join(', ')}` } : {}) };
    });
    metrics.gaugeFn('netroot_jobs', 'Jobs by kind and state', ['kind', 'state'], async (set) => {
      const counts = new Map<string, number>();
      for (const j of await store.jobs.list({ limit: 1000 })) counts.set(`${j.kind}\0${j.state}`, (counts.get(`${j.kind}\0${j.state}`) ?? 0) + 1);
      for (const [k, n] of counts) {
        const [kind, state] = k.split('\0') as [string, string];
        set({ kind, state }, n);
      }
    });

    let reloading: Promise<ReloadResult> | null = null;
    const reload = async (): Promise<ReloadResult> => {
      while (reloading) await reloading.catch(() => undefined);
      const run = (async () => {
        if (!opts.loadConfig) throw new ConfigError('reload: this service was started without a config source');
        const next = opts.loadConfig();
        if (next.dhcp.interfaces.length) dhcpOptions(next); // every subsystem's own checks, before anything changes
        await addresses.checkReload(next);
        const changed = changedSections(config, next);
        const restart = restartNeeded(config, next);
        await dhcp.reload(next);
        await boot.reload(next);
        addresses.reload(next);
        log.level = next.log.level;
        config = { ...next, dataDir: config.dataDir, http: config.http, nfs: config.nfs, tftp: { ...next.tftp, listen: config.tftp.listen, port: config.tftp.port, enabled: config.tftp.enabled } };
        const result = { applied: changed.filter((c) => !restart.includes(c)), restartNeeded: restart };
        log.info(result, 'configuration reloaded');
        return result;
      })();
      reloading = run;
      try {
        return await run;
      } finally {
        reloading = null;
      }
    };
    const reloadRoute = route({
      method: 'post',
      path: '/reload',
      tag: 'system',
      summary: 'Re-read the configuration file and apply it (as SIGHUP); a bad config is refused naming the field',
      access: 'write',
      responses: { 200: '{applied, restartNeeded}', 400: 'The new config is invalid; the running one is kept' },
      async handle() {
        try {
          return { body: await reload() };
        } catch (e) {
          if (e instanceof ConfigError) throw new AppError(ErrorCode.Invalid, e.message, e.field);
          throw e;
        }
      },
    });

    const app = createApp(
      { store, registry, tokens, health, version: VERSION, stuckAfterMs: config.events.stuckAfterSec * 1000, bus: recorder.bus, transfers: () => boot.transfers() },
      {
        ...config.http,
        log,
        webDir: WEB_DIR,
        extraRoutes: [...dhcp.routes, ...nfs.routes, ...boot.routes, ...imageRoutes({ store, images, jobs }), reloadRoute],
        mounts: [
          ['/metrics', metricsHandler(metrics)],
          ['/boot', boot.httpHandler],
        ],
      },
    );
    const server: Server = await new Promise((resolve, reject) => {
      // Express 5 calls this back with the error when listening fails (EADDRINUSE...).
      const s = app.listen(config.http.port, config.http.listen, (err?: Error) => {
        if (err) reject(new Error(`http: cannot listen on ${config.http.listen}:${config.http.port}: ${err.message}`));
        else resolve(s);
      });
    });
    server.keepAliveTimeout = 65_000;
    server.maxConnections = config.http.maxConnections;
    boundPort = (server.address() as AddressInfo).port;
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    // Boot services start once the HTTP server they point nodes at is up.
    await nfs.start();
    await boot.start();
    closers.push(() => dhcp.close());
    await dhcp.start();

    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${host}:${addr.port}`;
    log.info({ url, dataDir: config.dataDir, version: VERSION }, 'netroot started');
    return {
      get config() {
        return config;
      },
      store,
      registry,
      recorder,
      tokens,
      url,
      reload,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
