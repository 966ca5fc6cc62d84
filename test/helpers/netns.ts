/**
 * Network namespaces for tests that send DHCP/PXE/NFS traffic. Network safety: everything stays
 * inside namespaces the test creates (never eth0, never the host's loopback broadcast), and the
 * namespaces are deleted afterwards.
 *
 *   const lab = await Lab.create('dhcp');           // namespace names are prefixed and unique
 *   const srv = await lab.ns('srv'); const cli = await lab.ns('cli');
 *   await lab.link(srv, '10.51.0.1/24', cli, null); // veth pair, addresses optional
 *   srv.exec(['node', ...]);  ...  await lab.destroy();
 */
import { randomBytes } from 'node:crypto';
import type { SpawnOptions } from 'node:child_process';
import { run, start, type Started } from './proc.js';

export class Ns {
  constructor(readonly name: string) {}
  /** argv prefix that runs a command inside this namespace. */
  wrap(argv: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name, ...argv]];
  }
  run(argv: string[], opts?: { timeoutMs?: number; input?: string }) {
    const [c, a] = this.wrap(argv);
    return run(c, a, opts);
  }
  start(argv: string[], opts?: SpawnOptions): Started {
    const [c, a] = this.wrap(argv);
    return start(c, a, opts);
  }
}

export class Lab {
  private readonly namespaces: Ns[] = [];
  private linkCount = 0;
  private constructor(private readonly prefix: string) {}

  static async create(tag: string): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new Error('network-namespace tests need root');
    return new Lab(`nr${tag.slice(0, 5)}${randomBytes(2).toString('hex')}`);
  }

  async ns(name: string): Promise<Ns> {
    const n = new Ns(`${this.prefix}-${name}`);
    await run('ip', ['netns', 'add', n.name]);
    this.namespaces.push(n);
    await n.run(['ip', 'link', 'set', 'lo', 'up']);
    return n;
  }

  /** A veth pair between two namespaces; returns the interface names. */
  async link(a: Ns, aAddr: string | null, b: Ns, bAddr: string | null): Promise<{ aIf: string; bIf: string }> {
    const i = this.linkCount++;
    const aIf = `va${i}`;
    const bIf = `vb${i}`;
    const tmpA = `${this.prefix.slice(-6)}a${i}`;
    const tmpB = `${this.prefix.slice(-6)}b${i}`;
    await run('ip', ['link', 'add', tmpA, 'netns', a.name, 'type', 'veth', 'peer', 'name', tmpB, 'netns', b.name]);
    await a.run(['ip', 'link', 'set', tmpA, 'name', aIf]);
    await b.run(['ip', 'link', 'set', tmpB, 'name', bIf]);
    for (const [ns, ifn, addr] of [[a, aIf, aAddr], [b, bIf, bAddr]] as const) {
      if (addr) await ns.run(['ip', 'addr', 'add', addr, 'dev', ifn]);
      await ns.run(['ip', 'link', 'set', ifn, 'up']);
    }
    return { aIf, bIf };
  }

  /** A bridge inside ns, with an optional address; returns its name. */
  async bridge(ns: Ns, name: string, addr: string | null): Promise<string> {
    await ns.run(['ip', 'link', 'add', name, 'type', 'bridge']);
    if (addr) await ns.run(['ip', 'addr', 'add', addr, 'dev', name]);
    await ns.run(['ip', 'link', 'set', name, 'up']);
    return name;
  }

  async destroy(): Promise<void> {
    for (const n of this.namespaces.reverse()) {
      // Processes started with `ip netns exec` are the test's own and stopped by it; deleting the
      // namespace removes its interfaces.
      await run('ip', ['netns', 'delete', n.name]).catch(() => undefined);
    }
    this.namespaces.length = 0;
  }
}
