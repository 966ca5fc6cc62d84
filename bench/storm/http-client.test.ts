import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpGet, parseHead } from './http-client.js';

test('response head: status and Content-Length; chunked is noticed', () => {
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nContent-Type: x\r\ncontent-length: 12'), { status: 200, contentLength: 12, chunked: false });
  assert.deepEqual(parseHead('HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked'), { status: 404, contentLength: null, chunked: true });
  assert.throws(() => parseHead('SSH-2.0-x'), /bad status line/);
  assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nContent-Length: 1x'), /bad Content-Length/);
});

test('a 3 MiB body over node:http on 127.0.0.1: hashed, compared, kept; a flipped byte and a short body are caught', async () => {
  const file = randomBytes(3 << 20);
  const bad = Buffer.from(file);
  bad[bad.length - 7]! ^= 1;
  const sha = createHash('sha256').update(file).digest('hex');
  const srv = createServer((req, res) => {
    if (req.url === '/short') {
      res.writeHead(200, { 'Content-Length': file.length });
      res.end(file.subarray(0, 1000), () => res.destroy());
      return;
    }
    const body = req.url === '/bad' ? bad : file;
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  try {
    const get = (path: string, extra = {}) => httpGet({ url: `${base}${path}`, localAddress: '127.0.0.1', idleMs: 10_000, ...extra });
    const a = await get('/f', { keepBody: true });
    assert.deepEqual([a.status, a.contentLength, a.bytes, a.sha256], [200, file.length, file.length, sha]);
    assert.ok(a.body!.equals(file), 'the kept body is the file (copied out of the shared read buffer)');
    const b = await get('/f', { expect: { bytes: file, sha256: sha } });
    assert.equal(b.sha256, sha);
    assert.notEqual((await get('/bad')).sha256, sha);
    assert.equal((await get('/bad', { expect: { bytes: file, sha256: sha } })).sha256, 'mismatch');
    await assert.rejects(get('/short'), /closed after 1000 of 3145728 bytes/);
    // Two at once through the one shared read buffer.
    const [c, d] = await Promise.all([get('/f'), get('/bad')]);
    assert.equal(c.sha256, sha);
    assert.equal(d.sha256, createHash('sha256').update(bad).digest('hex'));
  } finally {
    srv.close();
  }
});
