/**
 * One HTTP/1.1 GET from a node's address, a connection of its own (as iPXE opens one per file),
 * the body streamed into a SHA-256 (kept in memory only when asked, for the small script).
 * A connection that delivers nothing for idleMs fails the request.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';

export interface HttpGetOptions {
  url: string;
  localAddress: string;
  idleMs: number;
  /** Keep the body (the iPXE script); large files are only hashed. */
  keepBody?: boolean;
}

export interface HttpResult {
  status: number;
  contentLength: number | null;
  bytes: number;
  sha256: string;
  body: Buffer | null;
}

export class HttpClientError extends Error {}

export function httpGet(o: HttpGetOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(o.url);
    if (u.protocol !== 'http:') return reject(new HttpClientError(`not an http:// URL: ${o.url}`));
    const req = http.request({
      host: u.hostname,
      port: Number(u.port || 80),
      path: u.pathname + u.search,
      localAddress: o.localAddress,
      agent: false,
      headers: { 'User-Agent': 'iPXE/1.21.1 (storm bench)', Connection: 'close' },
    });
    req.setTimeout(o.idleMs, () => req.destroy(new HttpClientError(`no data for ${o.idleMs} ms`)));
    req.on('error', (e) => reject(e instanceof HttpClientError ? e : new HttpClientError(e.message)));
    req.on('response', (res) => {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
        if (o.keepBody) chunks.push(c);
      });
      res.on('error', (e) => reject(new HttpClientError(`response: ${e.message}`)));
      res.on('aborted', () => reject(new HttpClientError(`aborted after ${bytes} bytes`)));
      res.on('end', () => {
        const cl = res.headers['content-length'];
        resolve({
          status: res.statusCode ?? 0,
          contentLength: cl === undefined ? null : Number(cl),
          bytes,
          sha256: hash.digest('hex'),
          body: o.keepBody ? Buffer.concat(chunks) : null,
        });
      });
    });
    req.end();
  });
}
