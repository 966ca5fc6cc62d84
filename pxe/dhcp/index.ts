/** netroot's DHCP server: public surface. */
export { DhcpServer, RivalDhcpError, type DhcpServerDeps } from './server.js';
export {
  resolveOptions, resolveSubnets, DhcpConfigError, DEFAULT_BOOT_FILES,
  type DhcpServerOptions, type DhcpSubnetConfig, type DhcpPoolConfig, type DhcpMode, type RivalPolicy, type ResolvedOptions,
} from './config.js';
export type { Rival } from './rivals.js';
export { reservationProblem, unicastProblem, type AddressProblem, type AddressProblemCode, type ReservationRules, type ReservationSubnet } from './addresses.js';
export type { DhcpCounters } from './counters.js';
export { MemoryLeaseStore, type LeaseStore, type Lease, type LeaseState, type PoolRange } from './leases.js';
export { PoolAllocator, type LeaseChange } from './allocator.js';
export { DhcpHandler, type Arrival, type Outgoing, type HandlerDeps } from './handler.js';
export { decode, encode, emptyPacket, packetMac, messageType, type DhcpPacket } from './packet.js';
export { DhcpOptions, type OptionValue, type ClientUuid, type ClientNdi, type SubOption } from './options.js';
export { DhcpDecodeError, DhcpEncodeError } from './errors.js';
export { dumpPacket } from './dump.js';
export { Opt, MessageType, Arch, optionName, messageTypeName } from './constants.js';
export { chooseBootFile, clientFirmware, type ClientFirmware } from './policy.js';
