/**
 * Keeps the served export table equal to the registry: every change calls schedule(); applies
 * are debounced (a bulk import of 1,000 nodes is one apply), never overlap, and always render from
 * the input callback, i.e. from the registry as it is when the apply starts.
 */
import type { Logger } from 'pino';
import { ExportInputError } from './errors.js';
import { checkExportPaths } from './paths.js';
import { buildExportTable } from './table.js';
import { diffText, type TextDiff } from './textdiff.js';
import type { ApplyResult, ExportInput, ExportTable, NfsBackend } from './types.js';

export interface ExportManagerOptions {
  backend: NfsBackend;
  /** The current registry and config, read at the start of every apply. */
  input: () => Promise<ExportInput>;
  /** Quiet time after the last schedule() before applying; default 500 ms. */
  debounceMs?: number;
  /** Upper bound on how long a stream of schedule() calls can postpone an apply; default 5 s. */
  maxWaitMs?: number;
  logger?: Logger;
  /** Called after every apply (e.g. to record an event). */
  onApplied?: (result: ApplyResult) => void;
}

export interface DryRunResult {
  backend: 'kernel' | 'ganesha';
  filePath: string;
  table: ExportTable;
  /** What an apply would write now. */
  rendered: string;
  /** What is on disk (null: no file yet). */
  current: string | null;
  diff: TextDiff;
  /** State exports an apply would leave out because the directory is missing. */
  dropped: string[];
  /** A missing images tree: an apply would fail. */
  missingImages: string[];
}

export interface ExportStatus {
  backend: 'kernel' | 'ganesha';
  filePath: string;
  table: ExportTable | null;
  rendered: string | null;
  /** Why the registry's input cannot be rendered, if it cannot. */
  inputError: string | null;
  lastApply: ApplyResult | null;
  /** An apply is scheduled or running. */
  pending: boolean;
}

export class ExportManager {
  private readonly backend: NfsBackend;
  private readonly input: () => Promise<ExportInput>;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly logger: Logger | undefined;
  private readonly onApplied: ((r: ApplyResult) => void) | undefined;
  private timer: NodeJS.Timeout | null = null;
  private firstScheduledAt = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private running = 0;
  private last: ApplyResult | null = null;
  private closed = false;

  constructor(opts: ExportManagerOptions) {
    this.backend = opts.backend;
    this.input = opts.input;
    this.debounceMs = opts.debounceMs ?? 500;
    this.maxWaitMs = opts.maxWaitMs ?? 5000;
    this.logger = opts.logger;
    this.onApplied = opts.onApplied;
    if (this.debounceMs < 0) throw new RangeError('debounceMs: must be >= 0');
    if (this.maxWaitMs < this.debounceMs) throw new RangeError('maxWaitMs: must be >= debounceMs');
  }

  /** Asks for an apply soon; many calls in a burst make one apply. */
  schedule(): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.timer) clearTimeout(this.timer);
    else this.firstScheduledAt = now;
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstScheduledAt + this.maxWaitMs - now));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.applyNow().catch((e: unknown) => this.logger?.error({ err: e }, 'exports: scheduled apply threw'));
    }, wait);
  }

  /** Applies now (after any apply in progress); the result is also kept for status(). */
  applyNow(): Promise<ApplyResult> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.running++;
    const p = this.chain.then(() => this.applyOnce());
    this.chain = p.catch(() => undefined).finally(() => this.running--);
    return p;
  }

  private async applyOnce(): Promise<ApplyResult> {
    let result: ApplyResult;
    try {
      const table = buildExportTable(await this.input());
      result = await this.backend.apply(table);
    } catch (e) {
      if (!(e instanceof ExportInputError)) this.logger?.error({ err: e }, 'exports: apply threw');
      result = {
        ok: false, backend: this.backend.name, at: new Date().toISOString(), changed: false,
        error: e instanceof Error ? e.message : String(e), differences: [], conflicts: [], warnings: [],
      };
    }
    this.last = result;
    if (result.ok) this.logger?.info({ backend: result.backend, changed: result.changed, warnings: result.warnings, conflicts: result.conflicts.length }, 'exports: applied');
    else this.logger?.error({ backend: result.backend, error: result.error, differences: result.differences }, 'exports: apply failed, previous table kept');
    this.onApplied?.(result);
    return result;
  }

  /** What an apply would write, and the line diff against the file on disk; changes nothing. */
  async dryRun(): Promise<DryRunResult> {
    const table = buildExportTable(await this.input());
    const checked = await checkExportPaths(table);
    // As an apply would write it: without state exports whose directory is missing.
    const rendered = await this.backend.render({ entries: table.entries.filter((e) => !checked.dropped.includes(e.path)) });
    const current = await this.backend.readCurrent();
    return {
      backend: this.backend.name, filePath: this.backend.filePath, table, rendered, current,
      diff: diffText(current ?? '', rendered), dropped: checked.dropped, missingImages: checked.fatal,
    };
  }

  async status(): Promise<ExportStatus> {
    let table: ExportTable | null = null;
    let rendered: string | null = null;
    let inputError: string | null = null;
    try {
      table = buildExportTable(await this.input());
      rendered = await this.backend.render(table);
    } catch (e) {
      inputError = e instanceof Error ? e.message : String(e);
    }
    return {
      backend: this.backend.name, filePath: this.backend.filePath, table, rendered, inputError,
      lastApply: this.last, pending: this.timer !== null || this.running > 0,
    };
  }

  /** The last apply's result without rendering anything (health checks). */
  lastResult(): ApplyResult | null {
    return this.last;
  }

  /** An apply is scheduled or running. */
  isPending(): boolean {
    return this.timer !== null || this.running > 0;
  }

  /** Resolves once nothing is scheduled or running (tests, orderly shutdown). */
  async whenIdle(): Promise<void> {
    while (this.timer !== null || this.running > 0) {
      await this.chain;
      if (this.timer !== null) await new Promise((r) => setTimeout(r, Math.max(10, this.debounceMs / 2)));
    }
  }

  /** Stops scheduling and waits for an apply in progress. A pending debounced apply is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }
}
