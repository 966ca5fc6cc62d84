/** One perfdhcp run against one server as a bench sample: ACK/s, exchanges lost, p50/p99, CPU per 1,000 replies. Pure. */
import type { Sample } from '../lib/report.js';
import type { WireSummary } from './capture.js';
import type { PerfdhcpResult } from './perfdhcp.js';

export interface DhcpRun {
  case: string;
  server: string;
  round: number;
  seconds: number;
  result: PerfdhcpResult;
  cpuSec: number;
  ownCpuSec: number;
  rssMaxMiB: number;
  /** Datagrams the kernel dropped for a full receive buffer (RcvbufErrors) in each namespace. */
  kernelDrops: { server: number; perfdhcp: number };
  /** Error lines the server logged during the run. */
  serverErrors: number;
  /** The server's answer times on its own interface (--capture), else absent. */
  wire?: WireSummary;
}

export function toSample(r: DhcpRun): Sample {
  const p = r.result;
  const noOffer = p.offer.sent - p.offer.received;
  const noAck = p.ack.sent - p.ack.received;
  const replies = p.offer.received + p.ack.received;
  const failures = [
    ...(noOffer ? [`${noOffer} DISCOVERs without OFFER`] : []),
    ...(noAck ? [`${noAck} REQUESTs without ACK`] : []),
    ...(r.serverErrors ? [`${r.serverErrors} error lines in the server's log`] : []),
  ];
  return {
    case: r.case,
    server: r.server,
    round: r.round,
    value: p.ack.received / r.seconds,
    // An exchange is done when its ACK came back; every DISCOVER sent starts one.
    ok: p.ack.received,
    total: p.offer.sent,
    failures,
    cpuSec: r.cpuSec,
    cpuPerUnit: replies ? r.cpuSec / (replies / 1000) : null,
    rssMaxMiB: r.rssMaxMiB,
    extra: {
      lost: noOffer + noAck,
      'p50 ACK ms': p.ack.p50Ms,
      'p99 OFFER ms': p.offer.p99Ms,
      'p99 ACK ms': p.ack.p99Ms,
      'server errors': r.serverErrors,
      'kernel drops server': r.kernelDrops.server,
      'kernel drops perfdhcp': r.kernelDrops.perfdhcp,
      'own process CPU s': r.ownCpuSec,
      ...r.wire,
    },
  };
}
