/**
 * Sends one file with Content-Length, ETag/If-None-Match, Last-Modified, Range (206/416) and HEAD,
 * streamed from disk (never read whole into memory). Reports bytes and duration when the response
 * finishes or the client goes away.
 *
 * Only a regular file inside the allowed root is sent, reached without a symlink anywhere below
 * the root: a link planted in an image version (boot/initramfs.img -> /etc/shadow, or boot ->
 * /etc) is refused with 403 and logged. The file is checked by its real path, opened with
 * O_NOFOLLOW, and the opened descriptor itself is checked (its path, its type) and streamed, so a
 * link swapped in between the check and the open is never followed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { openInside } from '../fs/open-inside.js';
import { etagOf, ifRangeAllows, noneMatch, parseRange } from './range.js';

export { openInside, type Opened } from '../fs/open-inside.js';

export interface SentFile {
  status: number;
  bytes: number;
  ms: number;
  /** false when the client closed the connection before the end. */
  complete: boolean;
  range?: string;
}

export interface SendFileOptions {
  /** Only files inside this directory are sent (the image version's tree). */
  root: string;
  contentType?: string;
  /** Where a refused file is reported. */
  log?: Logger | undefined;
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
  let streaming = false;
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
    // From the checked descriptor, never from the path again; the stream closes it.
    const file = fh.createReadStream({ start, end, highWaterMark: 1 << 20 });
    streaming = true;
    file.on('data', (c) => (out.bytes += c.length));
    try {
      await pipeline(file, res);
    } catch {
      out.complete = false;
    }
    if (!res.writableFinished) out.complete = false;
    out.ms = Date.now() - started;
    return out;
  } finally {
    if (!streaming) await fh.close();
  }
}
