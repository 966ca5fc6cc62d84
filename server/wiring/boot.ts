/**
 * Boot file serving in the service: boot loaders found at start (and reported if missing), the
 * TFTP server (loaders from memory, pxelinux configs made on the fly, a static root), and the
 * HTTP boot routes under /boot (iPXE scripts, kernel, initramfs, booted reports).
 */
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  createBootTftpHandler, createTftpReporter, decideBoot, describeMissing, discoverLoaders, kernelCmdline, loadLoaders, renderIpxeScript,
  DEFAULT_LOADERS, type LoaderReport, type LoaderSpec,
} from '../../pxe/boot/index.js';
import type { BootDirectory } from '../../pxe/boot/types.js';
import type { DiscoverySink, EventSink, SecuritySink } from '../../pxe/boot/events.js';
import { writeBootToken } from '../../exports/state/index.js';
import { MemoryBootTokens } from '../boot/tokens.js';
import { createBootHandler } from '../../pxe/http/index.js';
import { FileCache, TftpServer, createStaticRoot, type FileHandler, type TransferRecord } from '../../pxe/tftp/index.js';
import { inSubnet, parseCidr } from '../../pxe/net/ipv4.js';
import type { Config } from '../config/schema.js';
import type { Health } from '../health.js';
import type { Metrics } from '../metrics.js';
import type { NodeRegistry } from '../registry/nodes.js';
import type { Store } from '../store/types.js';
import { route, type RouteDef } from '../api/route.js';
import { AppError, ErrorCode } from '../errors.js';

const HOST_RE = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** netroot's address for a client: configured, the subnet's, or this host's address on the client's subnet. */
export function serverAddressFor(config: Config, clientIp: string | null): string | null {
  if (config.boot.serverAddress) return config.boot.serverAddress;
  for (const s of config.dhcp.subnets) {
    const net = parseCidr(s.cidr);
    if (clientIp && inSubnet(clientIp, net)) {
      if (s.serverAddress) return s.serverAddress;
      for (const addrs of Object.values(networkInterfaces())) {
        for (const a of addrs ?? []) if (a.family === 'IPv4' && inSubnet(a.address, net)) return a.address;
      }
    }
  }
  return config.dhcp.subnets.find((s) => s.serverAddress)?.serverAddress ?? null;
}

export interface BootPart {
  routes: RouteDef[];
  httpHandler: RequestHandler;
  start(): Promise<void>;
  /** Loaders and boot settings change in place; transfers in flight carry on. */
  reload(next: Config): Promise<void>;
  transfers(): { tftp: number; http: number };
  close(): Promise<void>;
}

export function loaderSpecs(c: Config): LoaderSpec[] {
  const specs = DEFAULT_LOADERS.map((l) => (c.boot.loaders[l.name] ? { ...l, paths: [c.boot.loaders[l.name]!] } : l));
  for (const [name, path] of Object.entries(c.boot.loaders)) {
    if (!specs.some((l) => l.name === name)) specs.push({ name, paths: [path], package: '(configured)', purpose: 'configured in boot.loaders' });
  }
  return specs;
}

export function createBoot(
  initial: Config,
  deps: {
    store: Store;
    registry: NodeRegistry;
    directory: BootDirectory;
    events: EventSink;
    discoveries: DiscoverySink;
    security: SecuritySink;
    log: Logger;
    health: Health;
    metrics: Metrics;
    /** The HTTP port nodes report to (bound at start: config may say 0). */
    httpPort?: () => number;
  },
): BootPart {
  let config = initial;
  const log = deps.log.child({ part: 'boot' });
  let report: LoaderReport = { found: [], missing: [] };
  let handler: FileHandler = async () => null;
  let tftp: TftpServer | null = null;
  let tftpProblem: string | null = null;
  let httpInFlight = 0;
  // TFTP clients are known by address: their reserved IP, kept in step with the registry.
  const ipToMac = new Map<string, string>();

  const cmdline = (c: Config) => ({ nfs: c.boot.nfs, nfsOptions: c.boot.nfsOptions, ip: c.boot.ip });
  const tftpOn = (c: Config) => (c.tftp.enabled === 'auto' ? c.dhcp.interfaces.length > 0 : c.tftp.enabled);

  async function buildHandler(c: Config): Promise<FileHandler> {
    report = await discoverLoaders(Object.fromEntries(loaderSpecs(c).map((l) => [l.name, l.paths[0]!])));
    if (tftpOn(c)) for (const line of describeMissing(report)) log.warn(line);
    else if (report.missing.length) {
      // Nothing serves loaders while TFTP is off (HTTP boot needs none): a fact, not a fault.
      log.info(
        { missing: report.missing.map((m) => m.name), packages: [...new Set(report.missing.map((m) => m.package))] },
        'boot loaders not installed; only needed once TFTP serves them (netroot install brings their packages)',
      );
    }
    const root = c.tftp.root ?? join(c.dataDir, 'tftp');
    await mkdir(root, { recursive: true });
    const cache = new FileCache({ maxFileBytes: c.tftp.cacheMaxFileBytes, maxTotalBytes: c.tftp.cacheMaxTotalBytes });
    const fallback = await createStaticRoot({ root, cache });
    const known = serverAddressFor(c, null);
    const nfsServer = known ?? '0.0.0.0';
    const port = deps.httpPort?.() ?? c.http.port;
    // pxelinux nodes report to the server address when one is known (else the image's booted.conf).
    const reportTo = known && port > 0 ? `${known}:${port}` : undefined;
    return createBootTftpHandler({
      directory: deps.directory,
      loaders: await loadLoaders(report),
      pxelinux: { nfsServer, cmdline: { ...cmdline(c), ...(reportTo ? { reportTo } : {}) } },
      fallback,
      discovery: deps.discoveries,
      events: deps.events,
      addressMismatch,
      log,
    });
  }

  const macToImage = new Map<string, string | null>();
  const reporter = createTftpReporter(deps.events, (ip) => ipToMac.get(ip) ?? null, (mac) => macToImage.get(mac) ?? null);
  const onTransfer = (r: TransferRecord) => {
    reporter(r);
    if (r.result === 'refused') deps.metrics.transfers.inc({ protocol: 'tftp', kind: 'refused', result: String(r.errorCode ?? 'refused') });
  };

  deps.registry.onChange(async (c) => {
    const nodes = c.type === 'imported' ? c.nodes : [c.node];
    if (c.type === 'updated') {
      ipToMac.delete(c.before.ipv4);
      macToImage.delete(c.before.mac);
    }
    for (const n of nodes) {
      if (c.type === 'deleted') {
        ipToMac.delete(n.ipv4);
        macToImage.delete(n.mac);
      } else {
        ipToMac.set(n.ipv4, n.mac);
        macToImage.set(n.mac, n.image);
      }
    }
  });

  // The URL nodes used to reach us is the one their next fetches must use (multi-homed servers).
  const hostOf = (req: IncomingMessage) => {
    const h = req.headers.host ?? '';
    if (!HOST_RE.test(h)) throw new Error(`bad Host header ${JSON.stringify(h)}`);
    return h;
  };
  // Beside a site DHCP server (proxy mode) the address is the site's to give: a node asking from
  // another one than registered would boot without its state; netroot refuses it, saying why. In
  // full mode netroot gave the address itself: a NAT or proxy in between; boot, noted.
  const addressMismatch = (): 'allow' | 'refuse' => (config.dhcp.interfaces.length > 0 && config.dhcp.mode === 'proxy' ? 'refuse' : 'allow');
  // Reports that cannot be told by address carry the token their boot left in the node's state.
  const stateOwner = config.nfs.stateUid !== undefined && config.nfs.stateGid !== undefined ? { uid: config.nfs.stateUid, gid: config.nfs.stateGid } : undefined;
  const bootTokens = new MemoryBootTokens({ write: (fqdn, token) => writeBootToken(join(config.dataDir, 'state'), fqdn, token, stateOwner) });
  const bootHandler = createBootHandler({
    directory: deps.directory,
    events: deps.events,
    discovery: deps.discoveries,
    security: deps.security,
    bootTokens,
    addressMismatch,
    baseUrl: (req) => `http://${hostOf(req)}`,
    nfsServer: (req) => config.boot.serverAddress ?? hostOf(req).replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
    // Read at each request, so a reload takes effect for the next boot.
    cmdline: {
      get nfs() {
        return config.boot.nfs;
      },
      get nfsOptions() {
        return config.boot.nfsOptions;
      },
      get ip() {
        return config.boot.ip;
      },
    },
    logger: log,
  });
  const httpHandler: RequestHandler = (req, res) => {
    httpInFlight++;
    res.once('close', () => httpInFlight--);
    bootHandler(req, res);
  };

  deps.health.register('tftp', () => {
    if (!tftpOn(config)) return { status: 'off', detail: 'tftp.enabled is off (auto: no DHCP interfaces)' };
    if (tftpProblem) return { status: 'down', detail: tftpProblem };
    return { status: 'ok', listen: `${config.tftp.listen}:${tftp?.address()?.port ?? config.tftp.port}`, transfers: tftp?.activeTransfers ?? 0 };
  });
  deps.health.register('loaders', () => {
    const found = report.found.map((f) => f.name);
    if (!tftpOn(config)) {
      const missing = report.missing.length ? `; not installed: ${report.missing.map((m) => m.name).join(', ')}` : '';
      return { status: 'off', found, detail: `TFTP is off, so no loader is served${missing}` };
    }
    return { status: report.missing.length ? 'degraded' : 'ok', found, ...(report.missing.length ? { detail: describeMissing(report).join('; ') } : {}) };
  });
  deps.metrics.gaugeFn('netroot_transfers_in_flight', 'Boot file transfers in progress', ['protocol'], (set) => {
    set({ protocol: 'tftp' }, tftp?.activeTransfers ?? 0);
    set({ protocol: 'http' }, httpInFlight);
  });

  const routes: RouteDef[] = [
    route({
      method: 'get',
      path: '/nodes/{key}/boot',
      tag: 'nodes',
      summary: "What the node boots: its iPXE script and kernel command line as netroot renders them now",
      access: 'read',
      params: z.strictObject({ key: z.string().min(1).max(253) }),
      responses: { 200: '{script, cmdline, reason, image, version}', 404: 'No such node' },
      async handle({ params, req }) {
        const n = await deps.registry.find(params.key);
        const d = decideBoot(n.mac, await deps.directory.lookup(n.mac));
        if (!d.boot) return { body: { script: null, cmdline: null, reason: d.message, image: null, version: null } };
        const server = serverAddressFor(config, n.ipv4) ?? (req.headers.host ?? '').replace(/:\d+$/, '');
        const base = config.boot.httpBase?.replace('{server}', server) ?? `http://${server}:${config.http.port}`;
        try {
          const line = kernelCmdline(d, server, { ...cmdline(config), initrdName: 'initrd.img' });
          const script = renderIpxeScript(d, { baseUrl: base, nfsServer: server, cmdline: cmdline(config) });
          return { body: { script, cmdline: line, reason: null, image: d.image.name, version: d.image.version } };
        } catch (e) {
          throw new AppError(ErrorCode.Invalid, (e as Error).message, (e as { field?: string }).field);
        }
      },
    }),
    route({
      method: 'get',
      path: '/loaders',
      tag: 'system',
      summary: 'Boot loaders found (and missing, with the package that ships them)',
      access: 'read',
      responses: { 200: '{found, missing}' },
      async handle() {
        return { body: report };
      },
    }),
  ];

  return {
    routes,
    httpHandler,
    async start() {
      for (const n of await deps.store.nodes.all()) {
        ipToMac.set(n.ipv4, n.mac);
        macToImage.set(n.mac, n.image);
      }
      handler = await buildHandler(config);
      if (!tftpOn(config)) return;
      const t = config.tftp;
      tftp = new TftpServer({
        handler: (p, c) => handler(p, c),
        host: t.listen,
        port: t.port,
        logger: log.child({ part: 'tftp' }),
        onTransfer,
        maxTransfers: t.maxTransfers,
        maxPerClient: t.maxPerClient,
        recvBufferBytes: t.recvBufferBytes,
        maxBlksize: t.maxBlksize,
        maxWindowsize: t.maxWindowsize,
        timeoutMs: t.timeoutMs,
        maxTimeoutMs: t.maxTimeoutMs,
        retries: t.retries,
        workers: t.workers,
      });
      try {
        const a = await tftp.start();
        log.info({ address: a.address, port: a.port }, 'tftp: serving');
      } catch (e) {
        // A TFTP port we cannot bind must not take the API and HTTP boot down with it.
        tftpProblem = `cannot listen on ${t.listen}:${t.port}: ${(e as Error).message}`;
        log.error({ err: (e as Error).message }, `tftp: ${tftpProblem}`);
        tftp = null;
      }
    },
    async reload(next) {
      const prev = config;
      config = next;
      if (JSON.stringify({ b: prev.boot, t: prev.tftp }) !== JSON.stringify({ b: next.boot, t: next.tftp })) {
        // Swapped in place: the listening socket and the transfers in flight are untouched.
        handler = await buildHandler(next);
        log.info('boot: loaders and boot settings reloaded');
      }
    },
    transfers: () => ({ tftp: tftp?.activeTransfers ?? 0, http: httpInFlight }),
    async close() {
      await tftp?.stop();
    },
  };
}
