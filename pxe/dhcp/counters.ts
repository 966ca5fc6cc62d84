/** Packet counters, a plain object the service can export as metrics. */

export interface DhcpCounters {
  /** Requests received, by message type name (DISCOVER, REQUEST, ...). */
  received: Record<string, number>;
  /** Replies sent, by type name (OFFER, ACK, NAK). */
  sent: Record<string, number>;
  /** Well-formed requests deliberately not answered, by reason (unknown-mac, other-server, ...). */
  ignored: Record<string, number>;
  /** Packets dropped, by reason: decode error codes (truncated, bad-magic, ...), busy, handler-error, send-error. */
  dropped: Record<string, number>;
  /** Discovery reports made for unknown MACs. */
  discovered: number;
}

export function emptyCounters(): DhcpCounters {
  return { received: {}, sent: {}, ignored: {}, dropped: {}, discovered: 0 };
}

export function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

export function snapshot(c: DhcpCounters): DhcpCounters {
  return { received: { ...c.received }, sent: { ...c.sent }, ignored: { ...c.ignored }, dropped: { ...c.dropped }, discovered: c.discovered };
}
