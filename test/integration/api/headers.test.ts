/**
 * Security headers on what the running service answers: the web UI's files, API answers (ok,
 * 401, 404), the boot routes. The policy's effect in a browser is tested in web/csp.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';

let nr: Netroot;
before(async () => {
  nr = await startNetroot();
});
after(async () => {
  await nr.stop();
  removeDir(nr.dataDir);
});

test('UI, API and boot answers carry CSP, frame, nosniff and referrer headers', async () => {
  for (const [path, status, token] of [
    ['/', 200, null],
    ['/index.html', 200, null],
    ['/app.js', 200, null],
    ['/style.css', 200, null],
    ['/favicon.svg', 200, null],
    ['/nosuch.html', 404, null],
    ['/api/v1/health', 200, null],
    ['/api/v1/openapi.json', 200, null],
    ['/api/v1/nodes', 200, nr.token],
    ['/api/v1/nodes', 401, null],
    ['/api/v1/nosuch', 404, nr.token],
    ['/boot/52:54:00:00:00:01.ipxe', 200, null],
  ] as const) {
    const r = await fetch(`${nr.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    await r.arrayBuffer();
    const where = `${path} (${r.status})`;
    assert.equal(r.status, status, where);
    const csp = r.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v.join(' ')]));
    assert.equal(directives.get('default-src'), "'none'", `${where}: ${csp}`);
    for (const d of ['script-src', 'style-src', 'img-src', 'connect-src']) assert.equal(directives.get(d), "'self'", `${where}: ${d}`);
    assert.equal(directives.get('frame-ancestors'), "'none'", where);
    assert.equal(directives.get('base-uri'), "'none'", where);
    assert.equal(directives.get('form-action'), "'none'", where);
    assert.ok(!/unsafe/.test(csp), `${where}: nothing unsafe in ${csp}`);
    assert.equal(r.headers.get('x-frame-options'), 'DENY', where);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', where);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer', where);
  }
});

test('the UI has no inline script, inline style or event handler attribute for the CSP to refuse', async () => {
  const html = await (await fetch(`${nr.url}/`)).text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'every script is a file');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=|javascript:|data:/i);
});
