/**
 * Boot timeline events. Every front end reports what it did for a MAC through an EventSink; the
 * server stores them on the node's timeline (or as discovery for unknown MACs).
 */

export const BootEventKind = {
  DhcpDiscover: 'dhcp.discover',
  DhcpOffer: 'dhcp.offer',
  DhcpRequest: 'dhcp.request',
  DhcpAck: 'dhcp.ack',
  DhcpNak: 'dhcp.nak',
  DhcpDecline: 'dhcp.decline',
  DhcpRelease: 'dhcp.release',
  DhcpInform: 'dhcp.inform',
  /** A registered node's reserved address is one it must never get (pxe/dhcp/addresses.ts): no reply. */
  DhcpRefused: 'dhcp.refused',
  TftpFile: 'tftp.file',
  HttpScript: 'http.script',
  HttpKernel: 'http.kernel',
  HttpInitrd: 'http.initrd',
  HttpFile: 'http.file',
  Booted: 'booted',
  /** The node fetched its boot script from an address other than its registered one. */
  BootAddress: 'boot.address',
} as const;
export type BootEventKind = (typeof BootEventKind)[keyof typeof BootEventKind];

export interface BootEvent {
  mac: string;
  kind: BootEventKind;
  /** Small JSON-able detail: file name, bytes, duration, address offered, error... */
  detail: Record<string, unknown>;
}

/** Never throws and never blocks the caller (implementations queue or drop). */
export type EventSink = (event: BootEvent) => void;

/** What a front end knows about a MAC that is not registered (for the discovered list). */
export interface Discovery {
  mac: string;
  arch: number | null;
  vendorClass: string | null;
  userClass: string | null;
  uuid: string | null;
  relay: string | null;
  via: 'dhcp' | 'http' | 'tftp';
  /** Address of the HTTP/TFTP client that named the MAC (rate limits are per source). */
  source?: string;
}
export type DiscoverySink = (d: Discovery) => void;

/**
 * Something from the node network netroot refused as a possible attack or misconfiguration: a
 * "booted" report from an address that is not the node's, without its boot token. Kept apart
 * from boot timelines (bounded, see the server's security log).
 */
export interface SecurityEvent {
  kind: 'report.refused';
  /** The MAC the request named (normalised), or null when it named none. */
  mac: string | null;
  /** Address the request came from. */
  client: string;
  detail: Record<string, unknown>;
}
export type SecuritySink = (e: SecurityEvent) => void;

/**
 * Per-boot secrets for "booted" reports that do not come from the node's registered address. The
 * server gives each boot a token and writes it where only that node can read it (its own state
 * directory, exported to its address alone); the node sends it back with its report.
 */
export interface BootTokens {
  /** A token for this node's boot (reused for a short while: script fetches are unauthenticated). */
  issue(node: { mac: string; fqdn: string; stateMode?: 'nfs' | 'local' }): Promise<void>;
  /** Whether token is one netroot issued for this MAC's current or previous boot. */
  verify(mac: string, token: string): boolean;
}
