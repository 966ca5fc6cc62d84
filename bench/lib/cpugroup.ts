/**
 * A CPU accounting group per server under test. /proc/<pid>/stat alone misses work: tftpd-hpa
 * serves each transfer in a forked child and ignores SIGCHLD, so its children are reaped by the
 * kernel and their time never reaches the parent's cutime/cstime (measured: 0 after a 60 MB
 * transfer). A cgroup counts every process and thread that ever ran in it, exited ones included:
 * cgroup v1 cpuacct.usage, or cgroup v2 cpu.stat usage_usec. The server is placed in it by a
 * shell that writes its own pid there and then execs the server, so nothing runs outside it.
 */
import { access, mkdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

const V1 = '/sys/fs/cgroup/cpuacct';
const V2 = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

export class CpuGroup {
  private constructor(readonly dir: string, private readonly v2: boolean) {}

  /** A new group named after `name` (and this process), or an error naming what is missing. */
  static async create(name: string): Promise<CpuGroup> {
    const leaf = `netroot-bench-${process.pid}-${name.replace(/[^A-Za-z0-9-]/g, '')}`;
    const v1 = await access(join(V1, 'cpuacct.usage')).then(() => true, () => false);
    if (v1) {
      await mkdir(join(V1, leaf));
      return new CpuGroup(join(V1, leaf), false);
    }
    for (const root of V2) {
      if (!(await access(join(root, 'cgroup.procs')).then(() => true, () => false))) continue;
      await mkdir(join(root, leaf));
      return new CpuGroup(join(root, leaf), true);
    }
    throw new Error('no cgroup to count CPU time in (cgroup v1 cpuacct or a cgroup v2 hierarchy)');
  }

  /** argv that runs `argv` inside this group, with the same pid as the server itself. */
  wrap(argv: string[]): string[] {
    return ['sh', '-c', `echo $$ > ${join(this.dir, 'cgroup.procs')} && exec "$@"`, 'sh', ...argv];
  }

  /** CPU seconds used by everything that has run in the group. */
  async usageSec(): Promise<number> {
    if (!this.v2) return Number(await readFile(join(this.dir, 'cpuacct.usage'), 'utf8')) / 1e9;
    const m = /^usage_usec (\d+)$/m.exec(await readFile(join(this.dir, 'cpu.stat'), 'utf8'));
    if (!m) throw new Error(`${this.dir}/cpu.stat: no usage_usec`);
    return Number(m[1]) / 1e6;
  }

  /** Removes the group once its processes have ended (retried briefly: exits settle). */
  async remove(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      try {
        await rmdir(this.dir);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}
