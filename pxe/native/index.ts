/**
 * The native socket helper (sockopt.c, built by scripts/build.sh with node-gyp). Node's dgram has no
 * SO_BINDTODEVICE and no SIOCSARP; the DHCP server needs both on a multi-homed host.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SockOpt {
  /** A UDP socket bound to 0.0.0.0:port on ifname only (SO_BINDTODEVICE before bind), with SO_REUSEADDR and SO_BROADCAST. Returns its fd. */
  openUdp4(ifname: string, port: number): number;
  bindToDevice(fd: number, ifname: string): void;
  /** Adds an ARP entry (ip -> mac on ifname) so a reply can be unicast to a client without an address yet. */
  setArp(fd: number, ifname: string, ip: string, mac: string): void;
  /**
   * Receive buffer of at least `bytes` (SO_RCVBUFFORCE with CAP_NET_ADMIN, else SO_RCVBUF capped by
   * net.core.rmem_max). Returns the size the kernel reports (it doubles the request for overhead).
   */
  setRecvBuffer(fd: number, bytes: number): number;
  /**
   * Puts the calling thread (only it) in SCHED_IDLE: it gets the CPU time no other thread wants,
   * and a thread of normal policy that wakes preempts it at once.
   */
  idleThread(): void;
}

const ADDON = 'build/Release/netroot_sockopt.node';

/**
 * The file descriptor behind a Node socket (net.Socket or dgram.Socket), from its libuv handle,
 * or -1 when it has none (closed, or not an fd-backed handle). Node has no public API for it;
 * this is the one place that reads the internal field.
 */
export function handleFd(socket: unknown): number {
  const fd = (socket as { _handle?: { fd?: unknown } } | null)?._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

let cached: SockOpt | null = null;

/** Loads the addon; throws naming the path and the build command when it has not been built. */
export function sockopt(): SockOpt {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  // Compiled to dist/pxe/native/index.js; the addon stays in the source tree pxe/native/build.
  const candidates = [join(here, ADDON), join(here, '../../../pxe/native', ADDON)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`netroot_sockopt addon not built (looked in ${candidates.join(', ')}); run npm run build`);
  cached = createRequire(import.meta.url)(found) as SockOpt;
  return cached;
}
