/**
 * What the campaign counts: checks passed and failed per name (with the first failures kept
 * verbatim), and where each kill landed. One Tally per phase.
 */

export interface Failure {
  round: number;
  check: string;
  detail: string;
}

export interface PhaseReport {
  phase: string;
  rounds: number;
  seconds: number;
  killsByStep: Record<string, number>;
  checks: Record<string, { passed: number; failed: number; last?: Failure }>;
  passed: number;
  failed: number;
  firstFailures: Failure[];
  /** Phase-specific figures (committed imports, versions made...). */
  figures: Record<string, unknown>;
  /** The service's config file as written for this phase. */
  config: unknown;
  /** One line per round: what was done, where the kill landed, what the restart found. */
  log: string[];
}

const KEEP_FAILURES = 20;

export class Tally {
  readonly checks = new Map<string, { passed: number; failed: number; last?: Failure }>();
  readonly kills = new Map<string, number>();
  readonly failures: Failure[] = [];
  readonly log: string[] = [];
  failed = 0;
  passed = 0;
  round = 0;

  /** Records one check; returns ok so callers can chain. */
  check(name: string, ok: boolean, detail: () => string = () => ''): boolean {
    const c = this.checks.get(name) ?? { passed: 0, failed: 0 };
    this.checks.set(name, c);
    if (ok) {
      c.passed++;
      this.passed++;
    } else {
      c.failed++;
      this.failed++;
      // The first failures in order, and each check's last one (how it stood at the end).
      const f = { round: this.round, check: name, detail: detail().slice(0, 2000) };
      if (this.failures.length < KEEP_FAILURES) this.failures.push(f);
      c.last = f;
    }
    return ok;
  }

  /** A check that throws counts as failed with its message. */
  async attempt(name: string, f: () => Promise<void>): Promise<void> {
    try {
      await f();
    } catch (e) {
      this.check(name, false, () => `threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  kill(step: string): void {
    this.kills.set(step, (this.kills.get(step) ?? 0) + 1);
  }

  note(line: string): void {
    this.log.push(`round ${this.round}: ${line}`);
    console.log(`  [${this.round}] ${line}`);
  }

  report(phase: string, rounds: number, seconds: number, figures: Record<string, unknown>, config: unknown): PhaseReport {
    return {
      phase, rounds, seconds,
      killsByStep: Object.fromEntries([...this.kills].sort((a, b) => b[1] - a[1])),
      checks: Object.fromEntries(this.checks),
      passed: this.passed,
      failed: this.failed,
      firstFailures: this.failures,
      figures,
      config,
      log: this.log,
    };
  }
}

/** A list's first few items for a failure message. */
export function some<T>(xs: readonly T[], n = 5): string {
  return `${xs.length}: ${JSON.stringify(xs.slice(0, n))}${xs.length > n ? ' ...' : ''}`;
}

/** Elements of a not in b. */
export function minus<T>(a: Iterable<T>, b: ReadonlySet<T>): T[] {
  return [...a].filter((x) => !b.has(x));
}
