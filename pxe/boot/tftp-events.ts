/**
 * Puts finished TFTP transfers on the node's boot timeline. The MAC comes from the path when it
 * names one (pxelinux.cfg/01-<mac>, boot/01-<mac>/...), else from the client's address via
 * macOf (the service maps reserved IPs to nodes); transfers of unknown clients are not events.
 */
import type { TransferRecord } from '../tftp/server.js';
import { BootEventKind, type BootEvent, type EventSink } from './events.js';
import { macOfTftpPath } from './tftp-files.js';

export function tftpEvent(r: TransferRecord, mac: string): BootEvent {
  const detail: Record<string, unknown> = {
    file: r.file,
    client: r.client.address,
    result: r.result,
    bytes: r.bytes,
    ms: r.ms,
    blksize: r.blksize,
    windowsize: r.windowsize,
  };
  if (r.errorCode !== undefined) detail.errorCode = r.errorCode;
  if (r.error !== undefined) detail.error = r.error;
  if (r.retransmits > 0) detail.retransmits = r.retransmits;
  return { mac, kind: BootEventKind.TftpFile, detail };
}

export function createTftpReporter(events: EventSink, macOf: (address: string) => string | null = () => null): (r: TransferRecord) => void {
  return (r) => {
    const mac = macOfTftpPath(r.file) ?? macOf(r.client.address);
    if (mac) events(tftpEvent(r, mac));
  };
}
