/**
 * A TCP port forward from the host into a namespace: listens on 127.0.0.1:<port> in the root
 * namespace and, per connection, runs `ip netns exec NS socat STDIO TCP:<target>` with the socket
 * piped through. The namespace keeps no link to the host; only this process bridges one port.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Ns } from '../../helpers/netns.js';

export interface Forward {
  url: string;
  close(): Promise<void>;
}

export async function forwardPort(ns: Ns, listenPort: number, targetHost: string, targetPort: number): Promise<Forward> {
  const children = new Set<ChildProcess>();
  const server: Server = createServer((sock: Socket) => {
    const [cmd, args] = ns.wrap(['socat', 'STDIO', `TCP:${targetHost}:${targetPort}`]);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    children.add(child);
    sock.pipe(child.stdin!);
    child.stdout!.pipe(sock);
    const end = () => {
      sock.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
    };
    sock.on('error', end);
    sock.on('close', end);
    child.on('exit', () => {
      children.delete(child);
      sock.end();
    });
    child.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${listenPort}`,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      // Only the socat processes this forwarder started, by their own handles.
      for (const c of children) c.kill('SIGTERM');
    },
  };
}
