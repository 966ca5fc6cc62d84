/** JSON shapes the API returns (times as ISO 8601). */
import type { BootStatus, DiscoveredRecord, EventRecord, NodeRecord, TokenRecord } from '../store/types.js';
import type { BootState } from '../registry/boot-state.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** addressProblem: why DHCP will not give the node its address under the running config (null: fine). */
export function presentNode(n: NodeRecord, status?: BootStatus, state?: BootState, addressProblem: string | null = null) {
  return {
    mac: n.mac,
    fqdn: n.fqdn,
    ipv4: n.ipv4,
    image: n.image,
    pinnedVersion: n.pinnedVersion,
    kernelArgs: n.kernelArgs,
    bootMode: n.bootMode,
    stateMode: n.stateMode,
    enabled: n.enabled,
    createdAt: iso(n.createdAt),
    updatedAt: iso(n.updatedAt),
    lastEvent: status ? { kind: status.lastKind, at: iso(status.lastAt) } : null,
    lastBootedAt: status ? iso(status.bootedAt) : null,
    // What the node really runs: the image version on its own kernel command line, as its last
    // "booted" report said (null before its first report, or from an image too old to say).
    running: status?.runningVersion ? { image: status.runningImage, version: status.runningVersion, since: iso(status.bootedAt) } : null,
    // The version its last boot was handed (it may be booting it now).
    lastServed: status?.version ? { image: status.image, version: status.version } : null,
    bootState: state ?? 'never',
    addressProblem,
  };
}

export const presentEvent = (e: EventRecord) => ({ id: e.id, mac: e.mac, kind: e.kind, detail: e.detail, at: iso(e.at) });

export const presentToken = (t: TokenRecord) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  createdAt: iso(t.createdAt),
  lastUsedAt: iso(t.lastUsedAt),
  revokedAt: iso(t.revokedAt),
});

export const presentDiscovered = (d: DiscoveredRecord) => ({
  mac: d.mac,
  arch: d.arch,
  vendorClass: d.vendorClass,
  userClass: d.userClass,
  uuid: d.uuid,
  relay: d.relay,
  via: d.via,
  firstSeen: iso(d.firstSeen),
  lastSeen: iso(d.lastSeen),
  seenCount: d.seenCount,
});
