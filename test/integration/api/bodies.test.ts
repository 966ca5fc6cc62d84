/**
 * Request bodies through the real service: a client without a token cannot make netroot read or
 * hold a large body on any route (the token is checked on the headers, before the body), and
 * each route reads at most its own cap, with room for a 10,000-node import.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { configSchema } from '../../../server/config/schema.js';

const MiB = 1 << 20;

interface RawReply {
  /** 0 when the connection was dropped without an answer. */
  status: number;
  text: string;
  /** Body bytes the client got onto the connection before the server answered and closed it. */
  written: number;
}

/**
 * One request on its own connection, the body pushed until it is all sent or the server closes
 * the connection (a server that does not read leaves the client stuck once the socket buffers are
 * full). Write errors after the server's answer are expected and ignored.
 */
function rawRequest(url: string, method: string, path: string, o: { bodyBytes: number; chunked?: boolean; headers?: Record<string, string> }): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(port), hostname);
    let received = '';
    let written = 0;
    let closed = false;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (received += d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve({ status: m ? Number(m[1]) : 0, text: received, written });
    });
    const head = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Content-Type: application/json', 'Connection: close'];
    for (const [k, v] of Object.entries(o.headers ?? {})) head.push(`${k}: ${v}`);
    head.push(o.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${o.bodyBytes}`);
    sock.write(`${head.join('\r\n')}\r\n\r\n`);
    const chunk = Buffer.alloc(MiB, 0x20);
    const push = () => {
      while (!closed && written < o.bodyBytes) {
        const n = Math.min(chunk.length, o.bodyBytes - written);
        const data = o.chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), chunk.subarray(0, n), Buffer.from('\r\n')]) : chunk.subarray(0, n);
        written += n;
        if (!sock.write(data)) return void sock.once('drain', push);
      }
      if (!closed && o.chunked) sock.write('0\r\n\r\n');
    };
    push();
  });
}

/** Resident memory of a process in bytes, from /proc/<pid>/status. */
function rss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/** 10,000 nodes as a site would import them: long FQDNs, an image, kernel arguments. */
function realisticNodes(count: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const hex = (b: number) => b.toString(16).padStart(2, '0');
    out.push({
      mac: `52:54:00:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`,
      fqdn: `compute-r${String(Math.floor(i / 40)).padStart(3, '0')}-u${String(i % 40).padStart(2, '0')}.hpc.datacenter1.example.org`,
      ipv4: `10.20.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      image: 'rocky9-compute',
      pinnedVersion: null,
      kernelArgs: 'console=ttyS0,115200n8 console=tty0 net.ifnames=0 biosdevname=0 mitigations=auto',
      bootMode: 'ipxe',
      stateMode: 'nfs',
      enabled: true,
    });
  }
  return out;
}

describe('request bodies', () => {
  let nr: Netroot;
  before(async () => {
    nr = await startNetroot();
  });
  after(async () => {
    await nr.stop();
    removeDir(nr.dataDir);
  });

  test('six 30 MB bodies without a token: 401 before the body is read, memory stays flat', async () => {
    const before = rss(nr.proc.pid);
    const size = 30 * MiB;
    const replies = await Promise.all(
      ['/nodes/import', '/nodes/import', '/nodes', '/tokens', '/nodes/import', '/images'].map((p) => rawRequest(nr.url, 'POST', `/api/v1${p}`, { bodyBytes: size })),
    );
    for (const r of replies) {
      assert.equal(r.status, 401, r.text.slice(0, 300));
      assert.match(r.text, /"code":"unauthorized"/);
      assert.match(r.text, /\r\nConnection: close\r\n/i, 'the connection is closed, not kept reading the body');
      assert.ok(r.written < size, `the server stopped reading: the client pushed ${r.written} of ${size} bytes`);
    }
    const grew = rss(nr.proc.pid) - before;
    assert.ok(grew < 24 * MiB, `RSS grew by ${(grew / MiB).toFixed(1)} MiB for 180 MB of refused bodies`);
    assert.equal((await nr.api('GET', '/health', undefined, null)).status, 200, 'the service is still up');
  });

  test('no route reads a large body from a client without a token: public API, booted report, UI', async () => {
    const size = 30 * MiB;
    for (const [method, path, status] of [
      ['GET', '/api/v1/health', 413],
      ['GET', '/api/v1/openapi.json', 413],
      ['POST', '/api/v1/nosuch', 404],
      ['POST', '/boot/52:54:00:00:00:01/booted', 413],
      ['POST', '/', 413],
      ['GET', '/metrics', 413],
    ] as const) {
      const r = await rawRequest(nr.url, method, path, { bodyBytes: size });
      assert.equal(r.status, status, `${method} ${path}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /\r\nConnection: close\r\n/i, `${method} ${path} closes the connection`);
      assert.ok(r.written < size, `${method} ${path}: the client pushed ${r.written} of ${size} bytes`);
    }
    // A chunked body declares no length: it is read and thrown away up to a few KiB, then the
    // connection is dropped.
    const chunked = await rawRequest(nr.url, 'POST', '/boot/52:54:00:00:00:01/booted', { bodyBytes: size, chunked: true });
    assert.ok(chunked.written < size, `chunked booted report: ${chunked.written} of ${size} bytes pushed`);
    // A small body on a route that ignores it is fine (nodes' report tools send one).
    const small = await rawRequest(nr.url, 'POST', '/boot/52:54:00:00:00:01/booted', { bodyBytes: 100 });
    assert.equal(small.status, 404, 'unknown node, answered as before');
    assert.equal((await nr.api('GET', '/health', undefined, null)).status, 200);
  });

  test('a body past its route cap, with a token: 413 naming body, refused unread', async () => {
    const big = await rawRequest(nr.url, 'POST', '/api/v1/nodes', { bodyBytes: 30 * MiB, headers: { authorization: `Bearer ${nr.token}` } });
    assert.equal(big.status, 413);
    assert.match(big.text, /"code":"body_too_large".*"field":"body"/);
    assert.match(big.text, /accepts \(1048576 bytes\)/);
    assert.ok(big.written < 30 * MiB);
    const imp = await rawRequest(nr.url, 'POST', '/api/v1/nodes/import', { bodyBytes: 30 * MiB, headers: { authorization: `Bearer ${nr.token}` } });
    assert.equal(imp.status, 413);
    assert.match(imp.text, /"field":"body"/);
    // Past the cap without a declared length (chunked): counted as it is read, then refused.
    const chunked = await rawRequest(nr.url, 'POST', '/api/v1/nodes', { bodyBytes: 4 * MiB, chunked: true, headers: { authorization: `Bearer ${nr.token}` } });
    assert.equal(chunked.status, 413);
    assert.match(chunked.text, /"field":"body"/);
    // A read-only token is refused before its body too.
    const ro = await nr.api('POST', '/tokens', { name: 'viewer', role: 'readonly' });
    const forbidden = await rawRequest(nr.url, 'POST', '/api/v1/nodes/import', { bodyBytes: 30 * MiB, headers: { authorization: `Bearer ${ro.body.secret}` } });
    assert.equal(forbidden.status, 403);
    assert.ok(forbidden.written < 30 * MiB);
  });

  test('a 10,000-node import with a token fits the import cap', async () => {
    assert.equal((await nr.api('POST', '/images', { name: 'rocky9-compute' })).status, 201);
    const nodes = realisticNodes(10_000);
    // Pretty-printed, as a file an admin edited by hand: the larger form of the same list.
    const text = JSON.stringify(nodes, null, 2);
    const r = await nr.api('POST', '/nodes/import', text);
    assert.equal(r.status, 201, JSON.stringify(r.body).slice(0, 300));
    assert.equal(r.body.imported, 10_000);
    assert.equal((await nr.api('GET', '/nodes?limit=1')).body.total, 10_000);
    const cap = configSchema.parse({ dataDir: nr.dataDir }).http.importLimitBytes;
    assert.ok(text.length * 4 < cap, `${(text.length / MiB).toFixed(1)} MiB for 10,000 nodes leaves a margin under the ${cap / MiB} MiB cap`);
  });
});
