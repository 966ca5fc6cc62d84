/**
 * Per-interface UDP sockets. Each socket is bound to 0.0.0.0:port with SO_BINDTODEVICE (native
 * addon, set before bind), so it sees broadcasts from that interface only and its replies leave
 * through the same interface; Node's dgram alone cannot do this on a multi-homed host.
 */
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { sockopt } from '../native/index.js';

export interface IfSocket {
  ifname: string;
  port: number;
  socket: dgram.Socket;
  fd: number;
}

export async function openIfSocket(ifname: string, port: number): Promise<IfSocket> {
  const fd = sockopt().openUdp4(ifname, port);
  const socket = dgram.createSocket({ type: 'udp4' });
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

/** IPv4 addresses currently on an interface (read at each packet: addresses may change). */
export function interfaceAddresses(ifname: string): string[] {
  return (networkInterfaces()[ifname] ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address);
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
