/**
 * Retransmission timeout that follows the measured round trip, as RFC 6298 does for TCP: a
 * smoothed RTT and its variation, RTO = SRTT + 4 * RTTVAR, bounded below and above, doubled on
 * every expiry and kept doubled until a new sample arrives. Samples follow Karn's rule: the
 * caller never times a block it sent more than once (its ACK may answer either copy).
 *
 * A fixed 1 s first timeout costs a lossy link dearly: at 5 % loss a 1 MB lock-step transfer
 * loses ~200 packets, 1 s each. On a LAN the round trip is well under a millisecond, so the
 * measured timeout sits on its floor (tens of milliseconds) and a loss costs that much. The
 * native data path (pxe/native/tftp.c) implements the same rules.
 */
export interface RtoBounds {
  /** Timeout before any round trip was measured, ms. */
  initialMs: number;
  minMs: number;
  maxMs: number;
}

export class Rto {
  /** Current timeout, ms. */
  ms: number;
  private srtt = 0;
  private rttvar = 0;
  private measured = false;

  constructor(private readonly b: RtoBounds) {
    this.ms = this.clamp(b.initialMs);
  }

  private clamp(ms: number): number {
    const min = Math.min(this.b.minMs, this.b.maxMs);
    return Math.min(Math.max(ms, min), this.b.maxMs);
  }

  /** A round trip of a block sent once, ms. */
  sample(r: number): void {
    if (!this.measured) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.measured = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.ms = this.clamp(this.srtt + 4 * this.rttvar);
  }

  /** The timer expired: wait twice as long next time (RFC 6298 5.5). */
  backoff(): void {
    this.ms = Math.min(this.ms * 2, this.b.maxMs);
  }
}

/**
 * How long a silent client is waited for before its transfer is abandoned: as long as the fixed
 * schedule (timeoutMs, doubling up to maxTimeoutMs, `retries` retransmissions) would wait, so a
 * short measured timeout brings retransmissions earlier without giving up on a client sooner.
 */
export function giveUpMs(timeoutMs: number, maxTimeoutMs: number, retries: number): number {
  const cap = Math.max(maxTimeoutMs, timeoutMs);
  let total = 0;
  let t = timeoutMs;
  for (let i = 0; i <= retries; i++) {
    total += t;
    t = Math.min(t * 2, cap);
  }
  return total;
}
