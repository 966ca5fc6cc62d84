/** Tokens and access: no token, bad token, revoked token, read-only token, token routes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';

describe('API auth', () => {
  let nr: Netroot;
  let ro: string;
  before(async () => {
    nr = await startNetroot();
    const r = await nr.api('POST', '/tokens', { name: 'viewer', role: 'readonly' });
    assert.equal(r.status, 201);
    assert.match(r.body.secret, /^nrt_/);
    ro = r.body.secret;
  });
  after(async () => {
    await nr.stop();
    removeDir(nr.dataDir);
  });

  test('health needs no token; everything else does', async () => {
    const h = await nr.api('GET', '/health', undefined, null);
    assert.equal(h.status, 200);
    assert.equal(h.body.subsystems.store.status, 'ok');
    const doc = await nr.api('GET', '/openapi.json', undefined, null);
    assert.equal(doc.status, 200);
    const routes: [string, string][] = [];
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, { 'x-netroot-access': string }>>)) {
      for (const [method, op] of Object.entries(ops)) if (op['x-netroot-access'] !== 'public') routes.push([method, path]);
    }
    assert.ok(routes.length >= 10);
    for (const [method, path] of routes) {
      const url = path.replace('{key}', 'x.example').replace('{mac}', '52:54:00:00:00:01');
      const r = await nr.api(method.toUpperCase(), url, ['post', 'patch', 'put'].includes(method) ? {} : undefined, null);
      assert.equal(r.status, 401, `${method} ${path} without a token`);
      assert.equal(r.body.error.code, 'unauthorized');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="netroot"');
    }
  });

  test('malformed, unknown and revoked tokens are refused', async () => {
    assert.equal((await nr.api('GET', '/nodes', undefined, null, { authorization: 'Basic abc' })).status, 401);
    assert.equal((await nr.api('GET', '/nodes', undefined, 'nrt_doesnotexist')).status, 401);
    assert.equal((await nr.api('GET', '/nodes', undefined, 'x'.repeat(5000))).status, 401);
    const t = await nr.api('POST', '/tokens', { name: 'temp', role: 'admin' });
    assert.equal((await nr.api('GET', '/nodes', undefined, t.body.secret)).status, 200);
    const rv = await nr.api('DELETE', '/tokens/temp');
    assert.equal(rv.status, 200);
    assert.ok(rv.body.revokedAt);
    assert.equal((await nr.api('GET', '/nodes', undefined, t.body.secret)).status, 401);
    assert.equal((await nr.api('DELETE', '/tokens/temp')).status, 409);
    assert.equal((await nr.api('DELETE', '/tokens/nosuch')).status, 404);
  });

  test('read-only token reads everything and changes nothing', async () => {
    assert.equal((await nr.api('POST', '/nodes', { mac: '52:54:00:00:00:01', fqdn: 'a.lab.example', ipv4: '10.9.0.1' })).status, 201);
    for (const p of ['/nodes', '/nodes/a.lab.example', '/nodes/a.lab.example/events', '/discovered', '/tokens', '/images']) {
      assert.equal((await nr.api('GET', p, undefined, ro)).status, 200, p);
    }
    const writes: [string, string, unknown][] = [
      ['POST', '/nodes', { mac: '52:54:00:00:00:02', fqdn: 'b.lab.example', ipv4: '10.9.0.2' }],
      ['PATCH', '/nodes/a.lab.example', { enabled: false }],
      ['DELETE', '/nodes/a.lab.example', undefined],
      ['POST', '/nodes/import', [{ mac: '52:54:00:00:00:03', fqdn: 'c.lab.example', ipv4: '10.9.0.3' }]],
      ['POST', '/tokens', { name: 'sneaky', role: 'admin' }],
      ['DELETE', '/tokens/viewer', undefined],
      ['POST', '/images', { name: 'x' }],
    ];
    for (const [m, p, b] of writes) {
      const r = await nr.api(m, p, b, ro);
      assert.equal(r.status, 403, `${m} ${p}`);
      assert.equal(r.body.error.code, 'forbidden');
    }
    const n = await nr.api('GET', '/nodes/a.lab.example');
    assert.equal(n.body.enabled, true);
    assert.equal((await nr.api('GET', '/nodes')).body.total, 1);
  });

  test('whoami and the audit log (who, what, when, result)', async () => {
    assert.deepEqual((await nr.api('GET', '/whoami', undefined, ro)).body, { name: 'viewer', role: 'readonly' });
    assert.deepEqual((await nr.api('GET', '/whoami')).body, { name: 'admin', role: 'admin' });
    const a = await nr.api('GET', '/audit?limit=500', undefined, ro);
    assert.equal(a.status, 200);
    const items = a.body.items as { actor: string; method: string; path: string; status: number; at: string }[];
    assert.ok(items.some((i) => i.actor === 'admin' && i.method === 'POST' && i.path === '/api/v1/tokens' && i.status === 201));
    assert.ok(items.some((i) => i.actor === 'viewer' && i.status === 403), 'refused attempts are audited too');
    assert.ok(!items.some((i) => i.method === 'GET'), 'reads are not audited');
  });

  test('token names are validated and unique', async () => {
    assert.equal((await nr.api('POST', '/tokens', { name: 'has space' })).body.error.field, 'name');
    assert.equal((await nr.api('POST', '/tokens', { name: 'viewer' })).status, 409);
    const list = await nr.api('GET', '/tokens');
    assert.ok(list.body.items.every((t: Record<string, unknown>) => !('secret' in t) && !('hash' in t)));
  });
});
