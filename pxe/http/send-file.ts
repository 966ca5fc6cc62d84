/**
 * Sends one file with Content-Length, ETag/If-None-Match, Last-Modified, Range (206/416) and HEAD,
 * streamed from disk (never read whole into memory). Reports bytes and duration when the response
 * finishes or the client goes away.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { etagOf, ifRangeAllows, noneMatch, parseRange } from './range.js';

export interface SentFile {
  status: number;
  bytes: number;
  ms: number;
  /** false when the client closed the connection before the end. */
  complete: boolean;
  range?: string;
}

export async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, contentType = 'application/octet-stream'): Promise<SentFile> {
  const started = Date.now();
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return { status: 404, bytes: 0, ms: Date.now() - started, complete: true };
  }
  const etag = etagOf(st);
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': st.mtime.toUTCString(),
    'Cache-Control': 'no-cache',
  };
  if (noneMatch(req.headers['if-none-match'], etag)) {
    res.writeHead(304, { ETag: etag, 'Last-Modified': headers['Last-Modified']! }).end();
    return { status: 304, bytes: 0, ms: Date.now() - started, complete: true };
  }
  let range = ifRangeAllows(req.headers['if-range'] as string | undefined, etag, st.mtimeMs) ? parseRange(req.headers.range, st.size) : null;
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
  const file = createReadStream(path, { start, end, highWaterMark: 1 << 20 });
  file.on('data', (c) => (out.bytes += c.length));
  try {
    await pipeline(file, res);
  } catch {
    out.complete = false;
  }
  if (!res.writableFinished) out.complete = false;
  out.ms = Date.now() - started;
  return out;
}
