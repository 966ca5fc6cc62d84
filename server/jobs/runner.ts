/**
 * Jobs: long work (image pulls, preflight, prepare) run in the service with state, log and
 * progress in the store, visible through the API while they run, cancellable. A job left
 * running by a crash is marked failed at the next start.
 */
import type { Logger } from 'pino';
import type { JobRecord, Store } from '../store/types.js';

export interface JobContext {
  signal: AbortSignal;
  log(line: string): void;
  progress(step: string, p?: { percent: number | null; bytes: number | null; rate: number | null }): void;
}

export type JobFn = (ctx: JobContext) => Promise<Record<string, unknown> | void>;

const LOG_CAP = 256 * 1024;
const FLUSH_MS = 500;

export class JobRunner {
  private readonly running = new Map<number, { abort: AbortController; done: Promise<void> }>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async recover(): Promise<void> {
    const n = await this.store.jobs.failInterrupted(this.now());
    if (n) this.log.warn({ jobs: n }, 'jobs: marked jobs interrupted by the last stop as failed');
  }

  /** Starts fn in the background; returns the queued job at once. */
  async start(kind: string, target: string, createdBy: string | null, fn: JobFn): Promise<JobRecord> {
    const job = await this.store.jobs.create(kind, target, createdBy);
    const abort = new AbortController();
    const done = this.run(job.id, fn, abort.signal).finally(() => this.running.delete(job.id));
    this.running.set(job.id, { abort, done });
    return job;
  }

  private async run(id: number, fn: JobFn, signal: AbortSignal): Promise<void> {
    const jobs = this.store.jobs;
    let pendingLog = '';
    let lastFlush = 0;
    let step: string | null = null;
    let progress: JobRecord['progress'] = null;
    let dirty = false;
    const flush = async (force = false) => {
      if (!force && this.now() - lastFlush < FLUSH_MS) return;
      lastFlush = this.now();
      const text = pendingLog;
      pendingLog = '';
      if (text) await jobs.appendLog(id, text, LOG_CAP);
      if (dirty) {
        dirty = false;
        await jobs.update(id, { step, progress });
      }
    };
    let writes = Promise.resolve();
    const queue = (force = false) => {
      writes = writes.then(() => flush(force)).catch((err: unknown) => this.log.error({ err, job: id }, 'jobs: could not save progress'));
    };
    const ctx: JobContext = {
      signal,
      log: (line) => {
        pendingLog += `${new Date(this.now()).toISOString()} ${line}\n`;
        queue();
      },
      progress: (s, p) => {
        const stepChanged = s !== step;
        step = s;
        progress = p ?? null;
        dirty = true;
        queue(stepChanged);
      },
    };
    await jobs.update(id, { state: 'running', startedAt: this.now() });
    try {
      const result = await fn(ctx);
      queue(true);
      await writes;
      await jobs.update(id, { state: 'succeeded', result: result ?? null, finishedAt: this.now() });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      ctx.log(`error: ${message}`);
      queue(true);
      await writes;
      await jobs.update(id, { state: signal.aborted ? 'cancelled' : 'failed', error: message, finishedAt: this.now() });
      this.log.warn({ job: id, error: message }, 'jobs: job failed');
    }
  }

  /** Asks a running job to stop (its work sees the AbortSignal). */
  cancel(id: number): boolean {
    const r = this.running.get(id);
    if (!r) return false;
    r.abort.abort();
    return true;
  }

  /** Waits for a job to finish (tests, shutdown). */
  async wait(id: number): Promise<void> {
    await this.running.get(id)?.done;
  }

  get active(): number {
    return this.running.size;
  }

  async close(): Promise<void> {
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }
}
