/**
 * Log lines caused by clients (refused requests, malformed packets) are a thing an
 * unauthenticated client can grow: a flood of bad requests must not become a flood in journald.
 * Up to `perSecond` lines pass each second; the rest are counted and said once, in the first line
 * of a later second.
 */
export class LogLimiter {
  private second = -1;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** null: do not log this one. Otherwise extra fields for the line (how many were held back). */
  take(): Record<string, number> | null {
    const s = Math.floor(this.now() / 1000);
    if (s !== this.second) {
      this.second = s;
      this.used = 0;
    }
    if (this.used >= this.perSecond) {
      this.suppressed++;
      return null;
    }
    this.used++;
    if (this.suppressed === 0) return {};
    const extra = { suppressedLines: this.suppressed };
    this.suppressed = 0;
    return extra;
  }
}
