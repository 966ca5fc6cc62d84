/** The real service over HTTP: node registry routes, validation, conflicts, import, persistence. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';

const node = (i: number, over: Record<string, unknown> = {}) => ({
  mac: `52:54:00:10:00:${i.toString(16).padStart(2, '0')}`,
  fqdn: `node${i}.lab.example`,
  ipv4: `10.9.0.${i}`,
  ...over,
});

describe('node registry API', () => {
  let nr: Netroot;
  before(async () => {
    nr = await startNetroot();
    assert.match(nr.token, /^nrt_/, 'first start prints an admin token');
  });
  after(async () => {
    await nr.stop();
    removeDir(nr.dataDir);
  });

  test('create, read by MAC and FQDN, patch, list, delete', async () => {
    const c = await nr.api('POST', '/nodes', { mac: '52-54-00-AA-00-01', fqdn: 'Alpha.Lab.Example', ipv4: '10.9.1.1', kernelArgs: 'console=ttyS0' });
    assert.equal(c.status, 201);
    assert.equal(c.body.mac, '52:54:00:aa:00:01');
    assert.equal(c.body.fqdn, 'alpha.lab.example');
    assert.equal(c.body.bootMode, 'ipxe');
    assert.equal(c.body.enabled, true);
    assert.match(c.body.createdAt, /^\d{4}-\d\d-\d\dT/);
    assert.equal((await nr.api('GET', '/nodes/52:54:00:aa:00:01')).body.fqdn, 'alpha.lab.example');
    assert.equal((await nr.api('GET', '/nodes/5254.00aa.0001')).body.fqdn, 'alpha.lab.example');
    assert.equal((await nr.api('GET', '/nodes/ALPHA.lab.example')).body.mac, '52:54:00:aa:00:01');
    const p = await nr.api('PATCH', '/nodes/alpha.lab.example', { enabled: false, bootMode: 'pxelinux', ipv4: '10.9.1.2' });
    assert.equal(p.status, 200);
    assert.deepEqual([p.body.enabled, p.body.bootMode, p.body.ipv4, p.body.kernelArgs], [false, 'pxelinux', '10.9.1.2', 'console=ttyS0']);
    const l = await nr.api('GET', '/nodes?search=alpha');
    assert.equal(l.body.total, 1);
    const d = await nr.api('DELETE', '/nodes/alpha.lab.example');
    assert.equal(d.status, 200);
    assert.equal((await nr.api('GET', '/nodes/alpha.lab.example')).status, 404);
    assert.equal((await nr.api('DELETE', '/nodes/alpha.lab.example')).status, 404);
  });

  test('bad input: 400 naming the field, nothing stored', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [node(1, { mac: 'not-a-mac' }), 'mac'],
      [node(1, { fqdn: 'no_underscores.example' }), 'fqdn'],
      [node(1, { fqdn: 'short' }), 'fqdn'],
      [node(1, { ipv4: '10.9.0.300' }), 'ipv4'],
      [node(1, { ipv4: 12 }), 'ipv4'],
      [node(1, { enabled: 'yes' }), 'enabled'],
      [node(1, { bootMode: 'grub' }), 'bootMode'],
      [node(1, { kernelArgs: 'root=/dev/nfs' }), 'kernelArgs'],
      [node(1, { image: '../../etc' }), 'image'],
      [node(1, { extra: 1 }), 'extra'],
      [{ fqdn: 'x.example', ipv4: '10.9.0.9' }, 'mac'],
    ];
    for (const [body, field] of cases) {
      const r = await nr.api('POST', '/nodes', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'invalid');
      assert.equal(r.body.error.field, field, JSON.stringify(r.body));
      assert.ok(r.body.error.message.startsWith(field), r.body.error.message);
    }
    const bad = await nr.api('POST', '/nodes', '{"mac": ', undefined);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'body');
    const notJson = await nr.api('POST', '/nodes', 'mac=1', undefined, { 'content-type': 'text/plain' });
    assert.equal(notJson.status, 400);
    assert.equal((await nr.api('GET', '/nodes?limit=0')).body.error.field, 'limit');
    assert.equal((await nr.api('GET', '/nodes?sort=color')).body.error.field, 'sort');
    assert.equal((await nr.api('GET', '/nodes')).body.total, 0);
  });

  test('duplicates: 409 naming the field and the node that has it', async () => {
    assert.equal((await nr.api('POST', '/nodes', node(5))).status, 201);
    for (const f of ['mac', 'fqdn', 'ipv4'] as const) {
      const r = await nr.api('POST', '/nodes', node(6, { [f]: node(5)[f] }));
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'conflict');
      assert.equal(r.body.error.field, f);
      assert.match(r.body.error.message, /node5\.lab\.example/);
    }
    assert.equal((await nr.api('POST', '/nodes', node(6))).status, 201);
    const r = await nr.api('PATCH', `/nodes/${node(6).fqdn}`, { ipv4: node(5).ipv4 });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.field, 'ipv4');
    await nr.api('DELETE', `/nodes/${node(5).mac}`);
    await nr.api('DELETE', `/nodes/${node(6).mac}`);
  });

  test('import: all or nothing, errors name the row', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => node(i + 10));
    const broken = [...rows.slice(0, 20), node(99, { mac: 'zz' }), ...rows.slice(20)];
    const r1 = await nr.api('POST', '/nodes/import', broken);
    assert.equal(r1.status, 400);
    assert.equal(r1.body.error.field, '[20].mac');
    const dup = [...rows, node(70, { fqdn: rows[3]!.fqdn })];
    const r2 = await nr.api('POST', '/nodes/import', dup);
    assert.equal(r2.status, 409);
    assert.equal(r2.body.error.field, '[50].fqdn');
    assert.equal((await nr.api('GET', '/nodes')).body.total, 0, 'a failed import changes nothing');
    const ok = await nr.api('POST', '/nodes/import', rows);
    assert.equal(ok.status, 201);
    assert.equal(ok.body.imported, 50);
    const again = await nr.api('POST', '/nodes/import', [node(200), rows[0]]);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.field, '[1].mac');
    assert.equal((await nr.api('GET', '/nodes?limit=1')).body.total, 50);
    const page = await nr.api('GET', '/nodes?limit=10&offset=45&sort=ipv4&order=asc');
    assert.equal(page.body.items.length, 5);
  });

  test('body too large: 413, nothing stored', async () => {
    const r = await nr.api('POST', '/nodes', { ...node(1), kernelArgs: 'x'.repeat(2 << 20) });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'body_too_large');
    assert.equal((await nr.api('GET', `/nodes/${node(1).mac}`)).status, 404);
  });

  test('unknown image refused with 400 naming image, even before any image exists', async () => {
    const first = await nr.api('POST', '/nodes', node(1, { image: 'centos7' }));
    assert.equal(first.status, 400, 'a typo or a missing image is refused at registration, not at boot');
    assert.equal(first.body.error.field, 'image');
    assert.match(first.body.error.message, /unknown image "centos7".*image create centos7/);
    assert.equal((await nr.api('POST', '/nodes', node(1))).status, 201, 'no image: registered now, assigned later');
    assert.equal((await nr.api('POST', '/images', { name: 'centos7' })).status, 201);
    const r = await nr.api('POST', '/nodes', node(2, { image: 'debian' }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error.field, 'image');
    const pin = await nr.api('POST', '/nodes', node(2, { image: 'centos7', pinnedVersion: '3' }));
    assert.equal(pin.status, 400, 'a pin names a ready version of the image');
    assert.equal(pin.body.error.field, 'pinnedVersion');
    assert.equal((await nr.api('POST', '/nodes', node(2, { image: 'centos7' }))).status, 201);
    assert.equal((await nr.api('PATCH', `/nodes/${node(1).mac}`, { image: 'centos7' })).status, 200);
    assert.equal((await nr.api('GET', '/nodes?image=centos7')).body.total, 2);
    const p = await nr.api('POST', '/nodes', node(3, { pinnedVersion: '3' }));
    assert.equal(p.body.error.field, 'pinnedVersion');
    const imp = await nr.api('POST', '/nodes/import', [node(4), node(5, { image: 'nope' })]);
    assert.equal(imp.status, 400);
    assert.equal(imp.body.error.field, '[1].image');
    assert.equal((await nr.api('GET', `/nodes/${node(4).mac}`)).status, 404, 'all or nothing');
  });

  test("an image's state.kind and its nodes' stateMode agree: 400 naming stateMode or settings.state.kind", async () => {
    const local = { state: { kind: 'local' } };
    assert.equal((await nr.api('POST', '/images', { name: 'disk-el9', settings: local })).status, 201);
    assert.equal((await nr.api('POST', '/images', { name: 'nfs-el9' })).status, 201);
    const a = node(140, { image: 'disk-el9' });
    const r = await nr.api('POST', '/nodes', a);
    assert.equal(r.status, 400, 'a local-state image on a node whose state would be on netroot');
    assert.equal(r.body.error.field, 'stateMode');
    assert.match(r.body.error.message, /^stateMode: image disk-el9 keeps state on the node's own disk .*use stateMode "local"/);
    assert.equal((await nr.api('POST', '/nodes', { ...a, stateMode: 'local' })).status, 201);
    const imp = await nr.api('POST', '/nodes/import', [node(141, { image: 'nfs-el9' }), node(142, { image: 'nfs-el9', stateMode: 'local' })]);
    assert.equal(imp.status, 400);
    assert.equal(imp.body.error.field, '[1].stateMode');
    assert.equal((await nr.api('POST', '/nodes', node(141, { image: 'nfs-el9' }))).status, 201);
    // Moving a node to an image of the other kind needs its stateMode in the same PATCH.
    assert.equal((await nr.api('PATCH', `/nodes/${node(141).mac}`, { image: 'disk-el9' })).body.error.field, 'stateMode');
    assert.equal((await nr.api('PATCH', `/nodes/${node(141).mac}`, { stateMode: 'local' })).body.error.field, 'stateMode');
    assert.equal((await nr.api('PATCH', `/nodes/${node(141).mac}`, { image: 'disk-el9', stateMode: 'local' })).status, 200);
    // An image used by nodes keeps its kind; an unused one may change it.
    const k = await nr.api('PATCH', '/images/disk-el9', { settings: {} });
    assert.equal(k.status, 400);
    assert.equal(k.body.error.field, 'settings.state.kind');
    assert.match(k.body.error.message, /2 node\(s\) use image disk-el9 with stateMode "local" \(node140\.lab\.example, node141\.lab\.example\)/);
    assert.equal((await nr.api('PATCH', '/images/nfs-el9', { settings: local })).status, 200);
    for (const i of [140, 141]) await nr.api('DELETE', `/nodes/${node(i).mac}`);
  });

  test('unknown API route is a JSON 404', async () => {
    const r = await nr.api('GET', '/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
  });
});

test('restart keeps nodes and tokens; no second admin token', async () => {
  const a = await startNetroot();
  try {
    assert.equal((await a.api('POST', '/nodes', node(1))).status, 201);
    const t = await a.api('POST', '/tokens', { name: 'ops', role: 'readonly' });
    await a.stop();
    const b = await startNetroot({ dataDir: a.dataDir });
    try {
      assert.equal(b.token, '', 'the admin token is printed only on first start');
      assert.equal((await b.api('GET', `/nodes/${node(1).fqdn}`, undefined, a.token)).status, 200);
      assert.equal((await b.api('GET', '/nodes', undefined, t.body.secret)).status, 200);
    } finally {
      await b.stop();
    }
  } finally {
    await a.stop();
    removeDir(a.dataDir);
  }
});
