/** Discovered MACs: recorded by the boot front ends, listed, registered as nodes; events per node. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { configSchema } from '../../../server/config/schema.js';
import { startService } from '../../../server/main.js';
import { removeDir } from '../../helpers/service.js';

test('discovered MACs are listed and can be registered; timeline events are served', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nrdisc-'));
  let admin = '';
  const svc = await startService(configSchema.parse({ dataDir, http: { port: 0 } }), { log: pino({ level: 'silent' }), onAdminToken: (s) => (admin = s) });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${svc.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
  };
  try {
    const mac = '52:54:00:be:ef:01';
    svc.recorder.discovery({ mac, arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000', userClass: null, uuid: null, relay: null, via: 'dhcp' });
    svc.recorder.discovery({ mac, arch: null, vendorClass: null, userClass: 'iPXE', uuid: null, relay: null, via: 'http' });
    await svc.recorder.flush();
    const list = await api('GET', '/discovered');
    assert.equal(list.body.total, 1);
    assert.deepEqual([list.body.items[0].arch, list.body.items[0].userClass, list.body.items[0].vendorClass], [7, 'iPXE', 'PXEClient:Arch:00007:UNDI:003000']);
    const bad = await api('POST', `/discovered/${mac}/register`, { fqdn: 'new.lab.example', ipv4: 'x' });
    assert.equal(bad.body.error.field, 'ipv4');
    assert.equal((await api('POST', '/discovered/52:54:00:00:00:99/register', { fqdn: 'n.lab.example', ipv4: '10.9.9.9' })).status, 404);
    const reg = await api('POST', `/discovered/${mac}/register`, { fqdn: 'new.lab.example', ipv4: '10.9.9.1' });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.mac, mac);
    assert.equal((await api('GET', '/discovered')).body.total, 0);

    // Live stream: a reader sees the next events of this MAC only.
    const ac = new AbortController();
    const stream = await fetch(`${svc.url}/api/v1/events/stream?mac=${mac}`, { headers: { authorization: `Bearer ${admin}` }, signal: ac.signal });
    assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = stream.body!.getReader();
    let seen = '';
    const until = async (re: RegExp) => {
      while (!re.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
    };
    svc.recorder.sink({ mac: '52:54:00:00:00:77', kind: 'dhcp.offer', detail: {} });
    svc.recorder.sink({ mac, kind: 'dhcp.offer', detail: { ip: '10.9.9.1' } });
    svc.recorder.sink({ mac, kind: 'dhcp.ack', detail: { ip: '10.9.9.1' } });
    await svc.recorder.flush();
    await until(/event: boot\ndata: [^\n]*"kind":"dhcp.ack"/);
    assert.ok(!seen.includes('52:54:00:00:00:77'), 'other MACs are filtered out');
    ac.abort();
    const ev = await api('GET', '/nodes/new.lab.example/events');
    assert.deepEqual(ev.body.items.map((e: { kind: string }) => e.kind), ['dhcp.discover', 'dhcp.offer', 'dhcp.ack']);
    const after = await api('GET', `/nodes/new.lab.example/events?after=${ev.body.items[1].id}`);
    assert.deepEqual(after.body.items.map((e: { kind: string }) => e.kind), ['dhcp.ack']);
    const node = await api('GET', '/nodes/new.lab.example');
    assert.equal(node.body.lastEvent.kind, 'dhcp.ack');
    assert.equal(node.body.bootState, 'booting');
    svc.recorder.sink({ mac, kind: 'booted', detail: {} });
    await svc.recorder.flush();
    assert.equal((await api('GET', '/nodes/new.lab.example')).body.bootState, 'booted');
    const stats = await api('GET', '/stats');
    assert.deepEqual(stats.body.nodes, { total: 1, enabled: 1, booted: 1, booting: 0, stuck: 0, never: 0 });
    assert.equal(stats.body.bootsPerHour.length, 24);
    assert.equal(stats.body.bootsPerHour[23].count, 1);
    svc.recorder.discovery({ mac: '52:54:00:be:ef:02', arch: 0, vendorClass: null, userClass: null, uuid: null, relay: '10.1.0.1', via: 'dhcp' });
    await svc.recorder.flush();
    assert.equal((await api('DELETE', '/discovered/52:54:00:be:ef:02')).status, 204);
    assert.equal((await api('DELETE', '/discovered/52:54:00:be:ef:02')).status, 404);
  } finally {
    await svc.close();
    removeDir(dataDir);
  }
});

test('5,000 script requests for random MACs from one client leave a bounded discovered list (regression: 5,001 rows)', async () => {
  const { startNetroot } = await import('../../helpers/service.js');
  const nr = await startNetroot();
  try {
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    let done = 0;
    // Ten connections in parallel, as a script loop would; every request is answered.
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let i = w; i < 5000; i += 10) {
          const r = await fetch(`${nr.url}/boot/52:54:01:${hex(i >> 8)}:${hex(i & 255)}:${hex(w)}.ipxe`);
          assert.equal(r.status, 200);
          await r.text();
          done++;
        }
      }),
    );
    assert.equal(done, 5000);
    // Default limits: a burst of 120 new MACs per source, then 120 a minute.
    let total = 0;
    for (let i = 0; i < 20; i++) {
      total = (await nr.api('GET', '/discovered?limit=1')).body.total;
      if (total >= 120) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(total >= 120 && total <= 200, `discovered rows: ${total}`);
    const metrics = String((await nr.api('GET', '/metrics', undefined, null)).body);
    const dropped = Number(/netroot_recorder_dropped_total\{reason="source-rate"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    assert.ok(dropped >= 4800, `source-rate drops counted: ${dropped}`);
    assert.match(nr.proc.output(), /boot recorder: not recording \(limit reached/);
  } finally {
    await nr.stop();
    removeDir(nr.dataDir);
  }
});

test('connections held open by a client are capped at http.maxConnections; the service serves again once they go', async () => {
  const { startNetroot } = await import('../../helpers/service.js');
  const { connect } = await import('node:net');
  const nr = await startNetroot({ config: { http: { listen: '127.0.0.1', port: 0, maxConnections: 16 } } });
  const port = Number(new URL(nr.url).port);
  const socks: import('node:net').Socket[] = [];
  try {
    let closed = 0;
    for (let i = 0; i < 40; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closed++);
      socks.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    for (let i = 0; i < 50 && closed < 24; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed, 24, 'every connection past 16 was closed by the server at once');
  } finally {
    for (const s of socks) s.destroy();
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await nr.api('GET', '/health', undefined, null)).status, 200);
  await nr.stop();
  removeDir(nr.dataDir);
});
