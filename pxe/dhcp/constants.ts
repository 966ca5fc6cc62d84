/**
 * DHCP wire constants, named once after their RFCs (2131, 2132, 3004, 3046, 4578, PXE 2.1) with a
 * name for logs.
 */

/** BOOTP op field (RFC 951). */
export const Op = { Request: 1, Reply: 2 } as const;

/** RFC 2131 3: the four bytes that start the options field. */
export const MAGIC_COOKIE = 0x63825363;

/** Fixed BOOTP header size before the magic cookie (RFC 2131 2, figure 1). */
export const HEADER_SIZE = 236;

/** RFC 1542 2.1: some relays drop BOOTP messages shorter than 300 bytes, so we pad to that. */
export const MIN_PACKET_SIZE = 300;

/** Larger than any Ethernet-jumbo DHCP message; anything longer is counted as oversized. */
export const MAX_PACKET_SIZE = 8192;

/** RFC 2131 2: broadcast bit of the flags field. */
export const FLAG_BROADCAST = 0x8000;

/** Option codes (RFC 2132 unless noted). */
export const Opt = {
  Pad: 0,
  SubnetMask: 1,
  TimeOffset: 2,
  Router: 3,
  TimeServer: 4,
  DomainNameServer: 6,
  HostName: 12,
  BootFileSize: 13,
  DomainName: 15,
  SwapServer: 16,
  RootPath: 17,
  ExtensionsPath: 18,
  IpForwarding: 19,
  InterfaceMtu: 26,
  BroadcastAddress: 28,
  StaticRoute: 33,
  NisDomain: 40,
  NisServers: 41,
  NtpServers: 42,
  VendorSpecific: 43,
  NetbiosNameServers: 44,
  NetbiosNodeType: 46,
  NetbiosScope: 47,
  RequestedIpAddress: 50,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerIdentifier: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClassId: 60,
  ClientId: 61,
  TftpServerName: 66,
  BootFileName: 67,
  /** RFC 3004 (iPXE sends a bare string instead of the RFC's length-prefixed list). */
  UserClass: 77,
  /** RFC 3046: must be echoed unchanged in replies. */
  RelayAgentInfo: 82,
  /** RFC 4702 client FQDN. */
  ClientFqdn: 81,
  /** RFC 4578 2.1: client system architecture list. */
  ClientArch: 93,
  /** RFC 4578 2.2: client network interface identifier. */
  ClientNdi: 94,
  /** RFC 4578 2.3: client machine identifier (UUID/GUID). */
  ClientUuid: 97,
  /** RFC 3442 classless static routes. */
  ClasslessRoutes: 121,
  /** iPXE's encapsulated options (http://ipxe.org/howto/dhcpd). */
  IpxeEncap: 175,
  End: 255,
} as const;
export type OptCode = (typeof Opt)[keyof typeof Opt];

/** iPXE sub-options inside option 175. */
export const IpxeOpt = {
  /** 176: 1 = do not wait for ProxyDHCP offers (saves ~3 s per boot, docs/lab.md, trap 5). */
  NoPxeDhcp: 176,
} as const;

/** PXE 2.1 sub-options inside option 43 for PXE clients. */
export const PxeOpt = {
  /** Bit 3 (8): boot from the file named in the DHCP reply, skip boot server discovery. */
  DiscoveryControl: 6,
} as const;

/** RFC 2132 9.6 message types. */
export const MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const invert = (o: Record<string, number>): Map<number, string> => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const OPT_NAMES = invert(Opt);
const TYPE_NAMES = new Map([...invert(MessageType)].map(([t, name]) => [t, name.toUpperCase()]));

export function optionName(code: number): string {
  return OPT_NAMES.get(code) ?? `Option${code}`;
}

export function messageTypeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `TYPE${t}`;
}

/** RFC 4578 2.1 / IANA processor architecture types. */
export const Arch = {
  BiosX86: 0,
  NecPc98: 1,
  EfiItanium: 2,
  EfiIa32: 6,
  EfiBc: 7,
  EfiXscale: 8,
  EfiX64: 9,
  EfiArm32: 10,
  EfiArm64: 11,
  EfiX64Http: 16,
  EfiArm64Http: 19,
} as const;
