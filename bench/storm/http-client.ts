/**
 * One HTTP/1.1 GET from a node's address on a connection of its own (as iPXE opens one per file),
 * with just the HTTP a boot client needs: a status line, headers, a body of Content-Length bytes
 * (both servers send one; anything else fails the request). The body goes into a SHA-256 (kept in
 * memory only when asked, for the small script), or, with `expect`, is compared byte for byte
 * with the file as it should be (memcmp: far less CPU than SHA-256).
 *
 * Reads land in one 1 MiB buffer shared by every connection (net's `onread`: no allocation per
 * read, up to 1 MiB per read instead of 64 KiB). Sharing is safe because each read is consumed
 * (hashed, compared, or copied for a kept body) before the event loop runs the next one. This
 * keeps the client, one process for all nodes, from being what limits a storm of 500 x 69 MB on
 * 2 cores. A connection that delivers nothing for idleMs fails the request.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';

export interface HttpGetOptions {
  url: string;
  localAddress: string;
  idleMs: number;
  /** Keep the body (the iPXE script); large files are only hashed or compared. */
  keepBody?: boolean;
  /** Compare the body with these bytes instead of hashing it; `sha256` is then `expect.sha256` or "mismatch". */
  expect?: { bytes: Buffer; sha256: string };
}

export interface HttpResult {
  status: number;
  contentLength: number | null;
  bytes: number;
  sha256: string;
  body: Buffer | null;
}

export class HttpClientError extends Error {}

const READ_BUFFER = Buffer.allocUnsafe(1 << 20);
const HEADER_MAX = 16 << 10;

/** Status and Content-Length of a response head (the bytes before the blank line). */
export function parseHead(head: string): { status: number; contentLength: number | null; chunked: boolean } {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new HttpClientError(`bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  let contentLength: number | null = null;
  let chunked = false;
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const name = l.slice(0, i).trim().toLowerCase();
    const value = l.slice(i + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) throw new HttpClientError(`bad Content-Length ${JSON.stringify(value)}`);
      contentLength = Number(value);
    } else if (name === 'transfer-encoding' && /chunked/i.test(value)) chunked = true;
  }
  return { status: Number(m[1]), contentLength, chunked };
}

export function httpGet(o: HttpGetOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(o.url);
    if (u.protocol !== 'http:') return reject(new HttpClientError(`not an http:// URL: ${o.url}`));
    const hash = o.expect ? null : createHash('sha256');
    const chunks: Buffer[] = [];
    let head = Buffer.alloc(0);
    let parsed: ReturnType<typeof parseHead> | null = null;
    let bytes = 0;
    let same = true;
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      if (err) return reject(err);
      resolve({
        status: parsed!.status,
        contentLength: parsed!.contentLength,
        bytes,
        sha256: hash ? hash.digest('hex') : same && bytes === o.expect!.bytes.length ? o.expect!.sha256 : 'mismatch',
        body: o.keepBody ? Buffer.concat(chunks) : null,
      });
    };
    const body = (b: Buffer) => {
      const want = parsed!.contentLength! - bytes;
      if (b.length > want) return finish(new HttpClientError(`${b.length - want} bytes past Content-Length`));
      if (hash) hash.update(b);
      else if (same) same = b.equals(o.expect!.bytes.subarray(bytes, bytes + b.length));
      if (o.keepBody) chunks.push(Buffer.from(b)); // the read buffer is reused: copy what is kept
      bytes += b.length;
      if (bytes === parsed!.contentLength) finish(null);
    };
    const sock = net.connect({
      host: u.hostname,
      port: Number(u.port || 80),
      localAddress: o.localAddress,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          if (settled) return false;
          const data = (buf as Buffer).subarray(0, n);
          if (parsed) {
            body(data);
            return true;
          }
          head = Buffer.concat([head, data]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > HEADER_MAX) finish(new HttpClientError('response head too long'));
            return true;
          }
          try {
            parsed = parseHead(head.subarray(0, end).toString('latin1'));
          } catch (e) {
            finish(e as Error);
            return false;
          }
          if (parsed.chunked || parsed.contentLength === null) {
            finish(new HttpClientError(`HTTP ${parsed.status} without Content-Length`));
            return false;
          }
          const rest = head.subarray(end + 4);
          if (rest.length) body(rest);
          else if (parsed.contentLength === 0) finish(null);
          return true;
        },
      },
    });
    sock.setTimeout(o.idleMs, () => finish(new HttpClientError(`no data for ${o.idleMs} ms (${bytes} body bytes in)`)));
    sock.on('error', (e) => finish(new HttpClientError(e.message)));
    sock.on('close', () => finish(new HttpClientError(parsed ? `connection closed after ${bytes} of ${parsed.contentLength} bytes` : 'connection closed before a response')));
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: iPXE/1.21.1 (storm bench)\r\nConnection: close\r\n\r\n`);
    });
  });
}
