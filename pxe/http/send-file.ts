/**
 * Sends one file with Content-Length, ETag/If-None-Match, Last-Modified, Range (206/416) and HEAD.
 * Reports bytes and duration when the response finishes or the client goes away.
 *
 * Only a regular file inside the allowed root is sent, reached without a symlink anywhere below
 * the root: a link planted in an image version (boot/initramfs.img -> /etc/shadow, or boot ->
 * /etc) is refused with 403 and logged. The file is checked by its real path, opened with
 * O_NOFOLLOW, and the opened descriptor itself is checked (its path, its type); the body comes
 * from that descriptor only, so a link swapped in between the check and the open is never followed.
 *
 * The body, chosen by measurement (bench/README.md, "HTTP boot bodies"): Node writes the headers,
 * then the native sender (pxe/native/filesend.c) sends the bytes from its own threads with
 * sendfile(2), as nginx does. Streaming through Node reached 0.5-0.6x nginx for 100 parallel
 * 60 MB downloads at 0.6-0.7 CPU s/GiB. Sending by send() from a shared mapping of the file (an
 * earlier version) was as fast with 100 clients, but slower and dearer in a 500-node storm, and
 * twice fell into a storm of TCP retransmissions there that left nodes 38-102 s late. Which way
 * a body went is in SentFile.body. Without the addon (not built) the body is streamed, 1 MiB at
 * a time.
 * Either way, a file that turns out shorter than its Content-Length closes the connection, as
 * only that tells the client.
 */
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { openInside } from '../fs/open-inside.js';
import { fileSender, type FileSender } from '../native/filesend.js';
import { handleFd } from '../native/index.js';
import { etagOf, ifRangeAllows, noneMatch, parseRange } from './range.js';

export { openInside, type Opened } from '../fs/open-inside.js';

export interface SentFile {
  status: number;
  bytes: number;
  ms: number;
  /** false when the client closed the connection before the end. */
  complete: boolean;
  /** How the body went: by the native sender's threads, or streamed through Node. */
  body?: 'native' | 'stream';
  range?: string;
}

export interface SendFileOptions {
  /** Only files inside this directory are sent (the image version's tree). */
  root: string;
  contentType?: string;
  /** Where a refused file is reported. */
  log?: Logger | undefined;
  /** false: stream the body through Node even when the native sender is there (tests of that path). */
  native?: boolean;
}

export async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, opts: SendFileOptions): Promise<SentFile> {
  const started = Date.now();
  const opened = await openInside(opts.root, path);
  if (opened.kind === 'missing') {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return { status: 404, bytes: 0, ms: Date.now() - started, complete: true };
  }
  if (opened.kind === 'refused') {
    opts.log?.error({ path, root: opts.root, reason: opened.reason }, 'http boot: refused to send a file that is not a regular file inside its image version');
    res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden\n');
    return { status: 403, bytes: 0, ms: Date.now() - started, complete: true };
  }
  const { fh, st } = opened;
  let handedOver = false;
  try {
    const etag = etagOf(st);
    const headers: Record<string, string | number> = {
      'Content-Type': opts.contentType ?? 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Last-Modified': st.mtime.toUTCString(),
      'Cache-Control': 'no-cache',
    };
    if (noneMatch(req.headers['if-none-match'], etag)) {
      res.writeHead(304, { ETag: etag, 'Last-Modified': headers['Last-Modified']! }).end();
      return { status: 304, bytes: 0, ms: Date.now() - started, complete: true };
    }
    const range = ifRangeAllows(req.headers['if-range'] as string | undefined, etag, st.mtimeMs) ? parseRange(req.headers.range, st.size) : null;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${st.size}`, 'Content-Type': 'text/plain' }).end('range not satisfiable\n');
      return { status: 416, bytes: 0, ms: Date.now() - started, complete: true };
    }
    let status = 200;
    let start = 0;
    let end = st.size - 1;
    if (range) {
      status = 206;
      ({ start, end } = range);
      headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    }
    const length = Math.max(0, end - start + 1);
    headers['Content-Length'] = length;
    res.writeHead(status, headers);
    const out: SentFile = { status, bytes: 0, ms: 0, complete: true };
    if (range) out.range = `${start}-${end}`;
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      out.ms = Date.now() - started;
      return out;
    }
    // From the checked descriptor, never from the path again.
    const sender = opts.native === false ? null : fileSender();
    handedOver = true;
    if (sender && socketFd(res) >= 0) {
      out.body = 'native';
      await nativeBody(res, fh, sender, start, length, out, opts.log);
    } else {
      out.body = 'stream';
      await streamBody(res, fh, start, length, out);
    }
    out.ms = Date.now() - started;
    return out;
  } finally {
    if (!handedOver) await fh.close();
  }
}

const EMPTY = Buffer.alloc(0);

/** The socket's file descriptor from its libuv handle, or -1 (not a TCP socket, or gone). */
function socketFd(res: ServerResponse): number {
  const socket = res.socket;
  if (!socket || socket.destroyed) return -1;
  return handleFd(socket);
}

/**
 * The body by the native sender's threads: Node writes the headers, and once they have reached
 * the kernel the sender owns the socket's sending side until the last byte.
 */
async function nativeBody(res: ServerResponse, fh: FileHandle, sender: FileSender, start: number, length: number, out: SentFile, log: Logger | undefined): Promise<void> {
  let sockFd = -1;
  try {
    res.flushHeaders();
    const socket = res.socket;
    // The empty write's callback comes once everything written before it (the headers) has.
    if (socket) await new Promise<void>((resolve, reject) => socket.write(EMPTY, (e) => (e ? reject(e) : resolve())));
    // Read again now: the connection may have closed (and its number been reused) meanwhile.
    sockFd = socketFd(res);
  } catch {
    sockFd = -1;
  }
  if (sockFd < 0) {
    await fh.close();
    out.complete = false;
    return;
  }
  const transfer = sender.send(sockFd, fh.fd, start, length);
  const cancel = () => transfer.cancel();
  res.once('close', cancel);
  await fh.close(); // the sender has its own descriptor
  const end = await transfer.done.catch((e: unknown) => ({ sent: 0, error: (e as Error).message }));
  res.off('close', cancel);
  out.bytes = end.sent;
  if (end.error === null) {
    res.end();
    return;
  }
  out.complete = false;
  if (end.error === 'EIO') log?.warn({ sent: end.sent, length }, 'http boot: file shorter than when its headers were sent (changed in place while served); connection closed');
  res.destroy();
}

/** The body streamed through Node (no addon): read into buffers and written, 1 MiB at a time. */
async function streamBody(res: ServerResponse, fh: FileHandle, start: number, length: number, out: SentFile): Promise<void> {
  const file = fh.createReadStream({ start, end: start + length - 1, highWaterMark: 1 << 20 }); // closes fh
  file.on('data', (c) => (out.bytes += c.length));
  try {
    await pipeline(file, res, { end: false });
  } catch {
    out.complete = false;
    return;
  }
  if (out.bytes === length) {
    res.end();
    return;
  }
  // Shorter than Content-Length said (changed in place while served): only closing tells the client.
  out.complete = false;
  res.destroy();
}
