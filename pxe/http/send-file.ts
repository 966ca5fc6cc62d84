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
import { constants as fsc, type Stats } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { etagOf, ifRangeAllows, noneMatch, parseRange } from './range.js';

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

export type Opened = { kind: 'file'; fh: FileHandle; st: Stats } | { kind: 'missing' } | { kind: 'refused'; reason: string };

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * Opens path for reading if it is a regular file inside root with no symlink below root (root
 * itself may be a link: it comes from the configuration, not from an image). The caller closes
 * the handle.
 */
export async function openInside(root: string, path: string): Promise<Opened> {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { kind: 'refused', reason: `not inside ${root}` };
  let expected: string;
  let real: string;
  try {
    expected = join(await realpath(root), rel);
    real = await realpath(path);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return { kind: 'missing' };
    if (errno(e) === 'ELOOP') return { kind: 'refused', reason: 'symlink loop' };
    throw e;
  }
  // Without links, the real path is the root's real path plus the same names.
  if (real !== expected) return { kind: 'refused', reason: `reached through a symlink (leads to ${real})` };
  let fh: FileHandle;
  try {
    // O_NOFOLLOW: the last name has not become a link since; O_NONBLOCK: a FIFO put there does
    // not hang the open (it is refused below as not a regular file).
    fh = await open(expected, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    if (errno(e) === 'ELOOP') return { kind: 'refused', reason: 'a symlink' };
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return { kind: 'missing' };
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Refusal('not a regular file');
    // A directory above the file swapped for a link between realpath and open: the descriptor's
    // own path (Linux /proc) or identity says which file was really opened.
    const opened = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => null);
    if (opened !== null ? opened !== expected : !sameFile(st, await stat(expected))) throw new Refusal(`changed while opened (now ${opened ?? 'another file'})`);
    return { kind: 'file', fh, st };
  } catch (e) {
    await fh.close();
    if (e instanceof Refusal) return { kind: 'refused', reason: e.message };
    throw e;
  }
}

class Refusal extends Error {}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

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
