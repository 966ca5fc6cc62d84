/**
 * Keeps the NFS side equal to the registry, whatever happened before (a kill -9 in the middle of
 * an import, a directory removed by hand): a pass reads registry, state directories and the
 * written export table, creates the state directories that are missing (a few at a time), applies
 * the table, compares again and reports per node what is still lacking and why. Passes run at
 * start, after registry changes (debounced) and on demand; they never overlap.
 *
 * A directory below the state dir that no registered node owned when the service started is what
 * a delete (or an FQDN change) the last run did not finish left behind, or one made by hand: the
 * first pass whose apply succeeds (normally the start pass) archives it, as the delete would
 * have, so nothing is exported from where it goes and nothing is lost (restorable from there).
 * Directories orphaned while this process runs are left alone: the change that orphaned them is
 * still in flight and moves them itself.
 *
 * Every change to the state tree (a pass's creates, a rename, an archive, a restore) runs under
 * one lock, `exclusive`. A pass holds it for one batch of creates at a time and asks the registry
 * again for each node inside the lock, so a rename or delete that lands mid-pass is never undone
 * by a directory made from a stale list.
 */
import type { Logger } from 'pino';
import { buildExportTable } from '../nfs/table.js';
import type { ApplyResult, ExportInput } from '../nfs/types.js';
import type { CreateResult, CreateStateOptions, StateDirectories } from '../state/dirs.js';
import { planReconcile, type Lack, type NodeLack } from './plan.js';

export type ReconcileTrigger = 'start' | 'change' | 'demand';

export interface NodeProblem {
  fqdn: string;
  ipv4: string;
  lacks: Lack[];
  reason: string;
}

/** The comparison as it stands (nothing acted on). */
export interface ReconcileCheck {
  at: string;
  nodes: number;
  /** Nodes lacking a state directory or an export, with the reason. */
  lacking: NodeProblem[];
  /** Wanted export pairs that belong to no node (a network-wide images export) and are missing. */
  otherMissing: string[];
  /** Directories below the state dir that no registered node owns (archived at the next start). */
  orphans: string[];
  /** Why the comparison itself could not be made (the registry cannot be rendered, the state dir
   * cannot be read). */
  error: string | null;
}

export interface ReconcileReport extends ReconcileCheck {
  trigger: ReconcileTrigger;
  startedAt: string;
  durationMs: number;
  /** State directories this pass created, and those it could not. */
  created: number;
  createFailed: number;
  apply: { ok: boolean; changed: boolean; error?: string; warnings: string[] } | null;
  /** Directories no node owned at start that this pass moved to the archive, and those it could
   * not move (with the reason; they stay reported as orphans). */
  archived: string[];
  archiveFailed: { name: string; error: string }[];
  /** Nothing lacking, nothing failed. */
  ok: boolean;
}

export interface ReconcilerOptions {
  /** Registry and config as the export table is rendered from them (read at every pass). */
  input: () => Promise<ExportInput>;
  state: StateDirectories;
  /** How to seed a node's new state directory; null when the registry no longer wants one for that
   * FQDN (deleted, renamed, local state). Asked inside the lock, just before creating. */
  prepare: (fqdn: string) => Promise<CreateStateOptions | null>;
  /** Applies the export table; null: no backend (directories only). */
  apply: (() => Promise<ApplyResult>) | null;
  /** Pairs of the export table netroot last wrote; null: no backend. */
  exported: (() => Promise<Set<string>>) | null;
  /** State directories created at once; default 12. */
  concurrency?: number;
  /** Quiet time after the last schedule() before a pass; default 500 ms. */
  debounceMs?: number;
  /** Upper bound on how long a stream of schedule() calls can postpone a pass; default 5 s. */
  maxWaitMs?: number;
  logger?: Logger;
  onReport?: (r: ReconcileReport) => void;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class Reconciler {
  private readonly o: ReconcilerOptions;
  private readonly concurrency: number;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private lock: Promise<void> = Promise.resolve();
  private chain: Promise<unknown> = Promise.resolve();
  private queued: Promise<ReconcileReport> | null = null;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private firstScheduledAt = 0;
  private closed = false;
  private last: ReconcileReport | null = null;
  /** Why creating a node's directory failed, from the last pass (reasons in later checks). */
  private createErrors = new Map<string, string>();
  private lastApply: ApplyResult | null = null;
  /** Orphans found before this process served anything, not archived yet. */
  private leftovers = new Set<string>();

  constructor(opts: ReconcilerOptions) {
    this.o = opts;
    this.concurrency = opts.concurrency ?? 12;
    this.debounceMs = opts.debounceMs ?? 500;
    this.maxWaitMs = opts.maxWaitMs ?? 5000;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError('concurrency: must be an integer >= 1');
    if (this.debounceMs < 0) throw new RangeError('debounceMs: must be >= 0');
    if (this.maxWaitMs < this.debounceMs) throw new RangeError('maxWaitMs: must be >= debounceMs');
  }

  /** Runs fn with the state tree to itself (no pass batch, rename, archive or restore meanwhile). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Creates one node's directory now, if the registry wants it (a single registration answers
   * with its directory made); a pass follows to apply the table. */
  ensure(fqdn: string): Promise<CreateResult | null> {
    return this.exclusive(() => this.createUnlocked(fqdn));
  }

  private async createUnlocked(fqdn: string): Promise<CreateResult | null> {
    const opts = await this.o.prepare(fqdn);
    if (!opts) return null;
    const r = await this.o.state.create(fqdn, opts);
    this.createErrors.delete(fqdn);
    return r;
  }

  /**
   * Names the directories that no registered node owned before the service began to serve:
   * leftovers of a run that died mid-delete or mid-rename (or made by hand). Call it at start,
   * before any request can change the registry; the next pass archives those still unowned.
   */
  async takeLeftovers(): Promise<string[]> {
    const c = await this.check();
    if (c.error) return [];
    for (const name of c.orphans) this.leftovers.add(name);
    return c.orphans;
  }

  /** Moves the leftovers that still belong to no node to the archive, under the lock. */
  private async archiveLeftovers(): Promise<{ archived: string[]; failed: { name: string; error: string }[] }> {
    const archived: string[] = [];
    const failed: { name: string; error: string }[] = [];
    await this.exclusive(async () => {
      // Asked again inside the lock: a node registered meanwhile under that name owns it now.
      const orphans = new Set((await this.view()).plan.orphans);
      for (const name of this.leftovers) {
        if (!orphans.has(name)) {
          this.leftovers.delete(name);
          continue;
        }
        // Tried once: what cannot be moved (a name that is no FQDN...) stays reported as an orphan.
        this.leftovers.delete(name);
        try {
          await this.o.state.archive(name);
          archived.push(name);
        } catch (e) {
          failed.push({ name, error: message(e) });
        }
      }
    });
    return { archived, failed };
  }

  /** Asks for a pass soon; a burst of calls makes one pass. */
  schedule(): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.timer) clearTimeout(this.timer);
    else this.firstScheduledAt = now;
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstScheduledAt + this.maxWaitMs - now));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run('change');
    }, wait);
  }

  /** A pass after the one running (if any); callers arriving while one waits share it. */
  run(trigger: ReconcileTrigger): Promise<ReconcileReport> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queued) return this.queued;
    const p = this.chain.then(() => {
      this.queued = null;
      return this.pass(trigger);
    });
    this.queued = p;
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async pass(trigger: ReconcileTrigger): Promise<ReconcileReport> {
    this.running = true;
    const t0 = Date.now();
    let created = 0;
    const errors = new Map<string, string>();
    let apply: ApplyResult | null = null;
    let leftovers: { archived: string[]; failed: { name: string; error: string }[] } = { archived: [], failed: [] };
    try {
      const stale = await this.o.state.removeStaleTemps();
      if (stale.length) this.o.logger?.warn({ stale }, 'reconcile: removed half-made state directories of a process that died');
      const before = await this.view();
      for (let i = 0; i < before.plan.create.length && !this.closed; i += this.concurrency) {
        const batch = before.plan.create.slice(i, i + this.concurrency);
        await this.exclusive(() =>
          Promise.all(
            batch.map(async (fqdn) => {
              try {
                const r = await this.createUnlocked(fqdn);
                if (r?.created) created++;
              } catch (e) {
                errors.set(fqdn, message(e));
              }
            }),
          ),
        );
      }
      this.createErrors = errors;
      if (this.o.apply && !this.closed) {
        apply = await this.o.apply();
        this.lastApply = apply;
      }
      // Only once the table no longer exports them (it never names an unregistered FQDN).
      if (this.leftovers.size && !this.closed && (apply === null || apply.ok)) {
        leftovers = await this.archiveLeftovers();
        if (leftovers.archived.length) {
          this.o.logger?.warn({ archived: leftovers.archived }, 'reconcile: archived state directories no node owned at start (a delete or FQDN change the last run did not finish)');
        }
        if (leftovers.failed.length) this.o.logger?.warn({ failed: leftovers.failed }, 'reconcile: could not archive state directories no node owns');
      }
    } catch (e) {
      this.o.logger?.error({ err: e }, 'reconcile: pass failed');
    }
    const after = await this.check();
    const report: ReconcileReport = {
      ...after,
      trigger,
      startedAt: new Date(t0).toISOString(),
      durationMs: Date.now() - t0,
      created,
      createFailed: errors.size,
      apply: apply ? { ok: apply.ok, changed: apply.changed, warnings: apply.warnings, ...(apply.error ? { error: apply.error } : {}) } : null,
      archived: leftovers.archived,
      archiveFailed: leftovers.failed,
      ok: after.error === null && after.lacking.length === 0 && after.otherMissing.length === 0 && (apply === null || apply.ok),
    };
    this.last = report;
    this.running = false;
    const summary = { trigger, created, createFailed: errors.size, archived: leftovers.archived.length, lacking: after.lacking.length, orphans: after.orphans.length, durationMs: report.durationMs };
    if (report.ok) this.o.logger?.info(summary, 'reconcile: NFS side matches the registry');
    else this.o.logger?.warn({ ...summary, error: after.error, first: after.lacking.slice(0, 5) }, 'reconcile: NFS side still lacks something');
    this.o.onReport?.(report);
    return report;
  }

  private async view() {
    const input = await this.o.input();
    let wanted = null;
    let inputError: string | null = null;
    try {
      wanted = buildExportTable(input);
    } catch (e) {
      inputError = message(e);
    }
    const entries = await this.o.state.list();
    const exported = this.o.exported ? await this.o.exported() : null;
    return { nodes: input.nodes.length, plan: planReconcile({ nodes: input.nodes, wanted, entries, exported }), inputError };
  }

  /** Compares registry, state directories and export table now; changes nothing. */
  async check(): Promise<ReconcileCheck> {
    const at = new Date().toISOString();
    let v;
    try {
      v = await this.view();
    } catch (e) {
      return { at, nodes: 0, lacking: [], otherMissing: [], orphans: [], error: message(e) };
    }
    return {
      at,
      nodes: v.nodes,
      lacking: v.plan.lacking.map((l) => ({ fqdn: l.fqdn, ipv4: l.ipv4, lacks: l.lacks, reason: this.reason(l) })),
      otherMissing: v.plan.otherMissing,
      orphans: v.plan.orphans,
      error: v.inputError,
    };
  }

  private reason(l: NodeLack): string {
    if (l.blocked) return `state/${l.fqdn} is not a plain directory (a file or symlink is in the way): move it away, then reconcile`;
    if (l.lacks.includes('stateDir')) {
      const err = this.createErrors.get(l.fqdn);
      return err ? `could not create the state directory: ${err}` : 'no state directory (the next reconcile creates it)';
    }
    if (this.lastApply && !this.lastApply.ok) return `export apply failed: ${this.lastApply.error ?? 'unknown error'}`;
    return 'not in the export table yet (the next reconcile applies it)';
  }

  status(): { running: boolean; pending: boolean; last: ReconcileReport | null } {
    return { running: this.running, pending: this.timer !== null || this.queued !== null || this.running, last: this.last };
  }

  /** Resolves once no pass is scheduled, queued or running. */
  async whenIdle(): Promise<void> {
    while (this.timer !== null || this.queued !== null || this.running) {
      await this.chain;
      if (this.timer !== null) await new Promise((r) => setTimeout(r, Math.max(10, this.debounceMs / 2)));
    }
  }

  /** Stops scheduling; a running pass stops after its current batch (the next start finishes it). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
    await this.lock;
  }
}
