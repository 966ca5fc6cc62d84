/**
 * One phase's world: a temp dir, the exportfs sandbox (real exportfs, the machine's files
 * untouched), and the real service (`netroot serve --config FILE`, test/helpers/service.ts)
 * on a data dir that survives its kills. The service is killed with SIGKILL by its own PID, never
 * anything else; what it had started lives on re-parented and is waited for (and, if it never
 * ends, killed by PID as the campaign's own descendant and counted as a failure).
 *
 * Everything made here is registered with the cleanup list, which runs on success, failure,
 * Ctrl-C and SIGTERM alike.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNetroot, type Netroot } from '../../test/helpers/service.js';
import { createExportfsSandbox, type ExportfsSandbox } from '../../test/integration/nfs/sandbox.js';
import { mountsUnder } from '../../exports/image/tree.js';
import { createExportfsProbe, type ExportfsProbe, type ExportfsStage } from './exportfs-probe.js';
import { descendants, killProc, processesNaming, waitGone, type Proc } from './procs.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

type Cleanup = () => Promise<void>;
/** Processes to stop (services, sshd), then files to remove: each list last registered first. */
const stops: Cleanup[] = [];
const removals: Cleanup[] = [];

/** Set by Ctrl-C/SIGTERM: nothing new is started once cleanup has begun. */
let aborted = false;
export function abort(): void {
  aborted = true;
}
export function isAborted(): boolean {
  return aborted;
}
export function checkAborted(): void {
  if (aborted) throw new Error('aborted: cleaning up');
}

export function onStop(f: Cleanup): void {
  stops.push(f);
}

async function drain(list: Cleanup[], problems: string[]): Promise<void> {
  while (list.length) {
    try {
      await list.pop()!();
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
}

let cleaning: Promise<string[]> | null = null;
/**
 * Stops what runs, waits for what the killed services left running (killed by PID after 10 s:
 * each names one of this run's temp dirs, so it is this run's own), then removes the temp dirs.
 * Returns what went wrong; one failing step never stops the others. One cleanup per run, however
 * many callers (the signal handler and the failing main at once).
 */
export function cleanupAll(): Promise<string[]> {
  cleaning ??= cleanup();
  return cleaning;
}

async function cleanup(): Promise<string[]> {
  const problems: string[] = [];
  await drain(stops, problems);
  const left = await waitGone(strays(), 10_000);
  for (const p of left) {
    problems.push(`process ${p.pid} (${p.cmd}) still ran at cleanup; killed`);
    killProc(p);
  }
  await waitGone(left, 5000);
  await drain(removals, problems);
  return problems;
}

/** Temp dirs of this run: processes naming them and mounts under them are ours. */
const roots: string[] = [];
export async function tempRoot(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  roots.push(dir);
  removals.push(async () => {
    // Never remove through a mount: report it and leave the tree.
    const mounts = await mountsUnder(dir);
    if (mounts.length) throw new Error(`mounts left under ${dir}: ${mounts.join(', ')}; not removed`);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Processes still running that name one of this run's temp dirs (orphans of a killed service). */
export function strays(): Proc[] {
  return processesNaming(roots);
}

export interface KillInfo {
  /** The service's children at the kill (they live on, re-parented). */
  orphans: Proc[];
  /** Where each export apply in flight was. */
  exportfs: ExportfsStage[];
  /** False when the service had already exited by itself: a defect of its own. */
  wasRunning: boolean;
}

export interface LabOptions {
  name: string;
  /** Random wait before and after each exportfs run (ms, upper bound). */
  exportfsDelayMs: number;
  /** The config besides dataDir, http and nfs (images, boot...). */
  extraConfig?: () => Record<string, unknown>;
  nodeNetworks?: string[];
}

export class Lab {
  readonly dir: string;
  readonly dataDir: string;
  readonly sandbox: ExportfsSandbox;
  readonly probe: ExportfsProbe;
  token = '';
  nr: Netroot | null = null;
  /** Orphans of the last kill not yet seen to end. */
  private orphans: Proc[] = [];

  private constructor(dir: string, sandbox: ExportfsSandbox, probe: ExportfsProbe, private readonly o: LabOptions) {
    this.dir = dir;
    this.dataDir = join(dir, 'data');
    this.sandbox = sandbox;
    this.probe = probe;
  }

  static async create(o: LabOptions): Promise<Lab> {
    const dir = await tempRoot(`nr-faults-${o.name}-`);
    const sandbox = await createExportfsSandbox();
    roots.push(sandbox.root);
    removals.push(() => sandbox.destroy());
    const probe = await createExportfsProbe(dir, sandbox.exportfsWrapper, o.exportfsDelayMs);
    const lab = new Lab(dir, sandbox, probe, o);
    onStop(() => lab.stop());
    return lab;
  }

  config(): Record<string, unknown> {
    return {
      nfs: {
        backend: 'kernel',
        nodeNetworks: this.o.nodeNetworks ?? ['10.60.0.0/16'],
        kernel: { exportsFile: this.sandbox.filePath, etcExports: this.sandbox.etcExportsPath, etab: this.sandbox.etabPath, exportfs: this.probe.path },
      },
      ...(this.o.extraConfig?.() ?? {}),
    };
  }

  /** The config file as the service reads it (startNetroot adds dataDir, http and log). */
  async configFile(): Promise<unknown> {
    return JSON.parse(await readFile(join(this.dataDir, 'netroot.json'), 'utf8'));
  }

  async start(): Promise<Netroot> {
    if (this.nr) throw new Error('the service runs already');
    checkAborted();
    const nr = await startNetroot({ dataDir: this.dataDir, config: this.config() });
    if (aborted) {
      // Cleanup ran while it started: it is this call's to stop.
      await nr.stop();
      checkAborted();
    }
    this.nr = nr;
    if (nr.token) this.token = nr.token;
    return nr;
  }

  api(method: string, path: string, body?: unknown) {
    if (!this.nr) throw new Error('the service is not running');
    return this.nr.api(method, path, body, this.token);
  }

  /** SIGKILL to the service's own PID; its children are recorded, not touched. */
  async kill(): Promise<KillInfo> {
    const nr = this.nr;
    if (!nr) throw new Error('the service is not running');
    const wasRunning = nr.proc.child.exitCode === null && nr.proc.child.signalCode === null;
    // Synchronous from here to the signal: the moment chosen is the moment it dies.
    const exportfs = this.probe.inFlight();
    const orphans = descendants(nr.proc.pid);
    process.kill(nr.proc.pid, 'SIGKILL');
    await nr.proc.exited;
    this.nr = null;
    this.orphans.push(...orphans);
    return { orphans, exportfs, wasRunning };
  }

  /** Waits for the orphans of earlier kills to end; returns those that did not (then killed by PID). */
  async reapOrphans(timeoutMs: number): Promise<Proc[]> {
    const left = await waitGone(this.orphans, timeoutMs);
    for (const p of left) killProc(p);
    this.orphans = [];
    return left;
  }

  /** Waits until the reconciler is idle after at least one pass of this start. */
  async nfsSettled(timeoutMs = 300_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.api('GET', '/exports');
      const rc = r.body?.reconcile;
      if (rc && !rc.pending && rc.last) return r.body;
      if (Date.now() > until) throw new Error(`the reconciler did not settle in ${timeoutMs} ms: ${JSON.stringify(rc?.now ?? r.body).slice(0, 300)}`);
      await sleep(200);
    }
  }

  /** Waits until no job is queued or running. */
  async jobsSettled(timeoutMs = 300_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const running = (await this.api('GET', '/jobs?state=running')).body.items.length;
      const queued = (await this.api('GET', '/jobs?state=queued')).body.items.length;
      if (!running && !queued) return;
      if (Date.now() > until) throw new Error(`jobs still running after ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    if (!this.nr) return;
    const nr = this.nr;
    this.nr = null;
    await nr.stop();
  }
}
