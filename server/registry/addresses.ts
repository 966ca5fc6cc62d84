/**
 * The reservation rule (pxe/dhcp/addresses.ts) held against the running config: the registry asks
 * it on create, update and import; a reload that would strand registered nodes is refused naming
 * them; nodes the store already holds with such addresses (an older version's rows, a restored
 * backup, a config edited while netroot was stopped) are reported at start, on each node in the
 * API and in health, never silently skipped.
 */
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { DhcpConfigError, reservationProblem, resolveSubnets, type ReservationRules } from '../../pxe/dhcp/index.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import type { SubsystemHealth } from '../health.js';
import type { NodeRecord, Store } from '../store/types.js';

/** IPv4 addresses of the named interfaces on this host, now. */
export type InterfaceAddresses = (ifnames: string[]) => string[];

const hostAddresses: InterfaceAddresses = (ifnames) => {
  const all = networkInterfaces();
  return ifnames.flatMap((n) => (all[n] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address));
};

/** The rule's inputs from a config; a subnet the DHCP server would refuse is a ConfigError naming its field. */
export function addressRules(config: Config, ifaddrs: InterfaceAddresses = hostAddresses): ReservationRules {
  let subnets;
  try {
    subnets = resolveSubnets(config.dhcp.subnets);
  } catch (e) {
    if (e instanceof DhcpConfigError) throw new ConfigError(`config: ${e.message}`, `dhcp.${e.field}`);
    throw e;
  }
  const own = [...(config.boot.serverAddress ? [config.boot.serverAddress] : []), ...ifaddrs(config.dhcp.interfaces)];
  return { subnets, own, poolsServed: config.dhcp.mode === 'full' };
}

export interface Stranded {
  node: NodeRecord;
  problem: string;
}

export function stranded(nodes: NodeRecord[], rules: ReservationRules): Stranded[] {
  const out: Stranded[] = [];
  for (const node of nodes) {
    const p = reservationProblem(node.ipv4, rules);
    if (p) out.push({ node, problem: p.message });
  }
  return out;
}

/** "a.example: 10.0.0.5 is ...; b.example: ...; and 12 more": the first few and the count. */
export function describeStranded(list: Stranded[], max = 3): string {
  const shown = list.slice(0, max).map((s) => `${s.node.fqdn}: ${s.problem}`).join('; ');
  return list.length > max ? `${shown}; and ${list.length - max} more` : shown;
}

export interface AddressPart {
  /** Health check: degraded with the count while registered nodes have such addresses. */
  health(): Promise<SubsystemHealth>;
  /** Why ip is not a valid reservation under the running config, or null. */
  problem(ip: string): string | null;
  /** Refuses (ConfigError) a config under which nodes that are fine now would lose their address. */
  checkReload(next: Config): Promise<void>;
  /** The running config changed (after checkReload). */
  reload(next: Config): void;
  /** The registry changed: the health count is recomputed when next asked. */
  changed(): Promise<void>;
  /** Logs the nodes the store holds with such addresses (at start). */
  report(): Promise<Stranded[]>;
}

export function createAddresses(initial: Config, deps: { store: Store; log: Logger; ifaddrs?: InterfaceAddresses }): AddressPart {
  const ifaddrs = deps.ifaddrs ?? hostAddresses;
  let config = initial;
  let rules = addressRules(config, ifaddrs);
  // Interface addresses can come and go while netroot runs: read them again now and then.
  let rulesAt = Date.now();
  const current = () => {
    if (Date.now() - rulesAt > 10_000) {
      rules = addressRules(config, ifaddrs);
      rulesAt = Date.now();
    }
    return rules;
  };
  let cached: Promise<Stranded[]> | null = null;
  const all = () =>
    (cached ??= deps.store.nodes.all().then(
      (nodes) => stranded(nodes, current()),
      (e: unknown) => {
        cached = null;
        throw e;
      },
    ));
  return {
    async health() {
      const list = await all();
      if (list.length === 0) return { status: 'ok', stranded: 0 };
      return {
        status: 'degraded',
        stranded: list.length,
        detail: `${list.length} registered node${list.length === 1 ? ' has an address' : 's have addresses'} DHCP will not give: ${describeStranded(list)}`,
      };
    },
    problem: (ip) => reservationProblem(ip, current())?.message ?? null,
    async checkReload(next) {
      const nextRules = addressRules(next, ifaddrs);
      const nodes = await deps.store.nodes.all();
      // Only nodes the change itself strands: ones already reported must not block every later
      // reload (including the one that fixes them).
      const now = current();
      const fresh = stranded(nodes, nextRules).filter((s) => reservationProblem(s.node.ipv4, now) === null);
      if (fresh.length) {
        throw new ConfigError(
          `config: dhcp.subnets: the new configuration would leave ${fresh.length} registered node${fresh.length === 1 ? '' : 's'} with an address DHCP will not give: ${describeStranded(fresh)}; change or delete ${fresh.length === 1 ? 'it' : 'them'} first`,
          'dhcp.subnets',
        );
      }
    },
    reload(next) {
      config = next;
      rules = addressRules(config, ifaddrs);
      rulesAt = Date.now();
      cached = null;
    },
    async changed() {
      cached = null;
    },
    async report() {
      cached = null;
      const list = await all();
      if (list.length) {
        deps.log.warn(
          { count: list.length, nodes: list.slice(0, 20).map((s) => ({ fqdn: s.node.fqdn, mac: s.node.mac, ipv4: s.node.ipv4, problem: s.problem })) },
          `${list.length} registered node${list.length === 1 ? ' has an address' : 's have addresses'} DHCP will not give (no reply is sent to ${list.length === 1 ? 'it' : 'them'}): ${describeStranded(list)}`,
        );
      }
      return list;
    },
  };
}
