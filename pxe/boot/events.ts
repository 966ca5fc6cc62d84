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
}
export type DiscoverySink = (d: Discovery) => void;
