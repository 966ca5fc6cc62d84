/** Builds the DHCP server from config and the store; its API routes and health. */
import { z } from 'zod';
import type { Logger } from 'pino';
import { DhcpServer, resolveOptions, type DhcpCounters, type DhcpServerOptions, type HandlerDeps, type Rival } from '../../pxe/dhcp/index.js';
import type { BootDirectory } from '../../pxe/boot/types.js';
import type { EventSink } from '../../pxe/boot/events.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import type { Health } from '../health.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/types.js';
import { route, type RouteDef } from '../api/route.js';
import { AppError, ErrorCode } from '../errors.js';
import { clientCausedLogger } from '../log.js';

export function httpBase(config: Config): string {
  return config.boot.httpBase ?? `http://{server}:${config.http.port}`;
}

/** The DHCP section of the config as the server's options; errors name the config field. */
export function dhcpOptions(config: Config): DhcpServerOptions {
  const d = config.dhcp;
  const nums = (r: Record<string, string> | undefined) => (r ? Object.fromEntries(Object.entries(r).map(([k, v]) => [Number(k), v])) : undefined);
  const o: DhcpServerOptions = {
    mode: d.mode,
    interfaces: d.interfaces,
    subnets: d.subnets,
    bootFiles: nums(d.bootFiles),
    pxelinuxFiles: nums(d.pxelinuxFiles),
    httpBase: httpBase(config),
    proxyAnswerAll: d.proxyAnswerAll,
    rivals: d.rivals,
    ownAddresses: config.boot.serverAddress ? [config.boot.serverAddress] : [],
    detectRivalsAtStart: d.detectRivalsAtStart,
    rivalProbeMs: d.rivalProbeMs,
    recvBufferBytes: d.recvBufferBytes,
    ports: d.ports,
  };
  try {
    resolveOptions(o);
  } catch (e) {
    const field = (e as { field?: string }).field;
    const msg = (e as Error).message;
    const named = msg.startsWith('dhcp.') ? msg : `dhcp.${field ?? ''}: ${msg}`;
    throw new ConfigError(`config: ${named}`, named.slice(0, named.indexOf(':')));
  }
  return o;
}

export interface DhcpPart {
  readonly server: DhcpServer | null;
  routes: RouteDef[];
  start(): Promise<void>;
  /** Applies a new config: the DHCP server is rebuilt when its settings changed (it keeps no transfer state). */
  reload(next: Config): Promise<void>;
  close(): Promise<void>;
}

export function createDhcp(
  initial: Config,
  deps: { store: Store; directory: BootDirectory; events: EventSink; discoveries: HandlerDeps['discoveries']; log: Logger; health: Health; metrics: Metrics },
): DhcpPart {
  let config = initial;
  const build = (c: Config) =>
    c.dhcp.interfaces.length === 0
      ? null
      : new DhcpServer(dhcpOptions(c), {
          directory: deps.directory,
          events: deps.events,
          discoveries: deps.discoveries,
          leases: deps.store.leases,
          // NAKs, declines and refusals come at packet rate from any client: rate-limited lines.
          logger: clientCausedLogger(deps.log.child({ part: 'dhcp' })),
        });
  let server: DhcpServer | null = build(config);
  // Counters survive a reload (the server is rebuilt): what earlier servers counted is kept here.
  let carried: DhcpCounters = { received: {}, sent: {}, ignored: {}, dropped: {}, discovered: 0 };
  const addTable = (a: Record<string, number>, b: Record<string, number>) => {
    const o = { ...a };
    for (const [k, v] of Object.entries(b)) o[k] = (o[k] ?? 0) + v;
    return o;
  };
  const counters = (): DhcpCounters => {
    const c = server?.counters;
    if (!c) return carried;
    return {
      received: addTable(carried.received, c.received),
      sent: addTable(carried.sent, c.sent),
      ignored: addTable(carried.ignored, c.ignored),
      dropped: addTable(carried.dropped, c.dropped),
      discovered: carried.discovered + c.discovered,
    };
  };
  deps.health.register('dhcp', () => {
    if (!server) return { status: 'off', detail: 'no interfaces configured (dhcp.interfaces)' };
    const rivals = server.rivals;
    return {
      status: rivals.length && config.dhcp.mode === 'full' ? 'degraded' : 'ok',
      mode: config.dhcp.mode,
      interfaces: config.dhcp.interfaces,
      ...(rivals.length ? { detail: `other DHCP servers answer: ${rivals.map((r) => `${r.serverId} on ${r.ifname}`).join(', ')}` } : {}),
      rivals: rivals.length,
    };
  });
  deps.metrics.counterFn('netroot_dhcp_packets_total', 'DHCP packets by direction, message type and outcome', ['direction', 'type', 'outcome'], () => {
    const c = counters();
    const rows = (t: Record<string, number>, direction: string, outcome: string, isType: boolean) =>
      Object.entries(t).map(([k, value]) => ({ labels: { direction, type: isType ? k : '', outcome: isType ? outcome : k }, value }));
    return [...rows(c.received, 'in', 'received', true), ...rows(c.sent, 'out', 'sent', true), ...rows(c.ignored, 'in', 'ignored', false), ...rows(c.dropped, 'in', 'dropped', false)];
  });
  deps.metrics.gaugeFn('netroot_dhcp_rivals', 'Other DHCP servers seen by the last probe', [], (set) => set({}, server?.rivals.length ?? 0));
  const present = (r: Rival) => ({ interface: r.ifname, server: r.serverId, from: r.from, offered: r.offered, proxy: r.proxy, bootFile: r.bootFile });
  const routes = [
    route({
      method: 'get',
      path: '/dhcp/rivals',
      tag: 'dhcp',
      summary: 'Other DHCP/proxyDHCP servers that answered netroot\'s last probe',
      access: 'read',
      responses: { 200: '{items, enabled}' },
      async handle() {
        return { body: { enabled: server !== null, items: (server?.rivals ?? []).map(present) } };
      },
    }),
    route({
      method: 'post',
      path: '/dhcp/rivals/detect',
      tag: 'dhcp',
      summary: 'Probe every DHCP interface for other servers now',
      access: 'write',
      body: z.strictObject({ timeoutMs: z.number().int().min(100).max(30_000).optional() }).optional(),
      responses: { 200: '{items}', 503: 'DHCP is not enabled' },
      async handle({ body }) {
        if (!server) throw new AppError(ErrorCode.Unavailable, 'DHCP is not enabled (dhcp.interfaces is empty)');
        return { body: { items: (await server.detectRivals(body?.timeoutMs)).map(present) } };
      },
    }),
    route({
      method: 'get',
      path: '/dhcp/counters',
      tag: 'dhcp',
      summary: 'DHCP packets received/sent by type, ignored and dropped by reason',
      access: 'read',
      responses: { 200: 'counters' },
      async handle() {
        return { body: { enabled: server !== null, ...counters() } };
      },
    }),
  ];
  const settings = (c: Config) => JSON.stringify({ dhcp: c.dhcp, httpBase: httpBase(c) });
  return {
    get server() {
      return server;
    },
    routes,
    async start() {
      if (!server) return;
      await server.start();
      deps.log.info({ interfaces: config.dhcp.interfaces, mode: config.dhcp.mode }, 'dhcp: serving');
    },
    async reload(next) {
      if (settings(next) === settings(config)) return;
      const fresh = build(next);
      carried = counters();
      await server?.stop();
      server = fresh;
      config = next;
      if (server) {
        await server.start();
        deps.log.info({ interfaces: next.dhcp.interfaces, mode: next.dhcp.mode }, 'dhcp: serving with the reloaded configuration');
      } else deps.log.info('dhcp: stopped (no interfaces in the reloaded configuration)');
    },
    close: async () => void (await server?.stop()),
  };
}
