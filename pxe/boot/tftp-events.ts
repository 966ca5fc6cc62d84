/**
 * Puts finished TFTP transfers on the node's boot timeline. The MAC comes from the path when it
 * names one (pxelinux.cfg/01-<mac>, boot/01-<mac>/...), else from the client's address via
 * macOf (the service maps reserved IPs to nodes); transfers of unknown clients are not events.
 */
import type { TransferRecord } from '../tftp/server.js';
import { BootEventKind, type BootEvent, type EventSink } from './events.js';
import { macOfTftpPath } from './tftp-files.js';

export function tftpEvent(r: TransferRecord, mac: string, image: string | null = null): BootEvent {
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
  // boot/01-<mac>/<version>/<file>: the version this boot fetched (retention keeps it meanwhile).
  const segs = r.file.split(/[/\\]+/).filter((x) => x !== '');
  if (image && segs.length === 4 && segs[0] === 'boot') Object.assign(detail, { image, version: segs[2] });
  return { mac, kind: BootEventKind.TftpFile, detail };
}

/** imageOf: the node's image, to name the version a boot file belongs to. */
export function createTftpReporter(
  events: EventSink,
  macOf: (address: string) => string | null = () => null,
  imageOf: (mac: string) => string | null = () => null,
): (r: TransferRecord) => void {
  return (r) => {
    const mac = macOfTftpPath(r.file) ?? macOf(r.client.address);
    if (mac) events(tftpEvent(r, mac, imageOf(mac)));
  };
}
