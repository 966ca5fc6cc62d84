/**
 * Per-interface UDP sockets. Each socket is bound to 0.0.0.0:port with SO_BINDTODEVICE (native
 * addon, set before bind), so it sees broadcasts from that interface only and its replies leave
 * through the same interface; Node's dgram alone cannot do this on a multi-homed host.
 */
import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { networkInterfaces } from 'node:os';
import { isIPv4 } from '../net/ipv4.js';
import { sockopt } from '../native/index.js';

export interface IfSocket {
  ifname: string;
  port: number;
  socket: dgram.Socket;
  fd: number;
}

export async function openIfSocket(ifname: string, port: number): Promise<IfSocket> {
  const fd = sockopt().openUdp4(ifname, port);
  const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    // The fd is already bound (and device-bound); dgram adopts it as is.
    socket.bind({ fd }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.setBroadcast(true);
  return { ifname, port, socket, fd };
}

/** IPv4 addresses currently on an interface. */
export function interfaceAddresses(ifname: string): string[] {
  return (networkInterfaces()[ifname] ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address);
}

/**
 * interfaceAddresses, re-read at most every maxAgeMs: os.networkInterfaces() is a full netlink
 * dump (~0.2 ms here), a quarter of the CPU per packet under load when called for each one.
 * Addresses rarely change; a change is seen within maxAgeMs.
 */
export function cachedInterfaceAddresses(maxAgeMs = 2000, now: () => number = Date.now): (ifname: string) => string[] {
  const cache = new Map<string, { at: number; addrs: string[] }>();
  return (ifname) => {
    const t = now();
    const hit = cache.get(ifname);
    if (hit && t - hit.at < maxAgeMs) return hit.addrs;
    const addrs = interfaceAddresses(ifname);
    cache.set(ifname, { at: t, addrs });
    return addrs;
  };
}

/**
 * dgram resolves every destination, even an address literal, through dns.lookup, which answers a
 * literal on the next tick: a closure and a tick per reply. Every DHCP destination is a literal.
 */
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
function literalLookup(host: string, options: unknown, cb: LookupCallback): void {
  if (isIPv4(host)) cb(null, host, 4);
  else dnsLookup(host, options as number, cb);
}

/**
 * Sends without waiting: the kernel takes the datagram at once (or dgram queues it); onError
 * hears of a failure (err carries address and port).
 */
export function sendNow(s: IfSocket, buf: Buffer, port: number, address: string, onError: (err: Error) => void): void {
  s.socket.send(buf, port, address, (err) => {
    if (err) onError(err);
  });
}

export function sendTo(s: IfSocket, buf: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => s.socket.send(buf, port, address, (err) => (err ? reject(err) : resolve())));
}

export function closeIfSocket(s: IfSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
